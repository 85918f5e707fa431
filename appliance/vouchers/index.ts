export { CODE_ALPHABET, CODE_RANDOM_LENGTH, formatCode, generateCode, normalizeCode } from './codes.js';
export {
  createVoucherBatch,
  listVoucherBatches,
  MAX_BATCH_SIZE,
  revokeVoucher,
  revokeVoucherBatch,
  vouchersOfBatch,
  type BatchInput,
  type BatchSummary,
} from './batches.js';
export { redeemVoucher, type RedeemInput } from './redeem.js';
export { DEFAULT_GUESS_LIMITS, GuessLimiter, type GuessLimiterOptions } from './guess-limiter.js';

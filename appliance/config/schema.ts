/**
 * The one configuration schema. Every key has a default here; a config file
 * and then the environment override them. Unknown keys are errors.
 */
import type { FromSchema } from 'json-schema-to-ts';

const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', default: '/var/lib/turnpike', description: 'store, histories, keys' },
    logLevel: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    adminSocket: { type: 'string', default: '', description: 'local admin socket; empty = <dataDir>/admin.sock' },
    backup: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        keep: {
          type: 'integer',
          minimum: 1,
          default: 7,
          description: 'automatic backups kept in <dataDir>/backups: daily copies, and copies taken before migrations',
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        driver: {
          type: 'string',
          enum: ['lowdb', 'postgres'],
          default: 'lowdb',
          description: 'lowdb: embedded files in dataDir; postgres: one database shared by several appliances',
        },
        postgres: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            url: { type: 'string', default: '', description: 'postgres://user:password@host:5432/turnpike' },
          },
        },
      },
    },
    portal: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '0.0.0.0' },
        port: { ...port, default: 8080 },
        publicUrl: { type: 'string', default: 'http://127.0.0.1:8080', description: 'URL guests reach the portal at' },
        trustProxy: { type: 'boolean', default: false },
        bodyLimitBytes: { type: 'integer', minimum: 1024, default: 65536 },
        secureCookies: { type: 'boolean', default: false, description: 'set when served over HTTPS' },
        rateLimitPerMinute: { type: 'integer', minimum: 1, default: 300 },
        authRateLimitPerMinute: { type: 'integer', minimum: 1, default: 20 },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        bcryptCostStaff: { type: 'integer', minimum: 10, maximum: 15, default: 12 },
        bcryptCostGuest: { type: 'integer', minimum: 10, maximum: 15, default: 10 },
        hashConcurrency: { type: 'integer', minimum: 1, maximum: 16, default: 2 },
        accessTokenTtlSeconds: { type: 'integer', minimum: 60, maximum: 3600, default: 900 },
        refreshTokenTtlSeconds: { type: 'integer', minimum: 3600, default: 2592000 },
        staffIdleTimeoutSeconds: { type: 'integer', minimum: 60, maximum: 86400, default: 1800 },
        issuer: { type: 'string', default: 'turnpike' },
        lockout: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            freeAttempts: { type: 'integer', minimum: 1, default: 5 },
            baseDelaySeconds: { type: 'integer', minimum: 1, default: 2 },
            maxDelaySeconds: { type: 'integer', minimum: 1, default: 900 },
            perAddressFreeAttempts: { type: 'integer', minimum: 1, default: 20 },
            alertFailures: {
              type: 'integer',
              minimum: 1,
              default: 50,
              description: 'failed sign-ins on one account, from any addresses, that raise an alert (never a lock)',
            },
          },
        },
        accountMailsPerHour: {
          type: 'integer',
          minimum: 1,
          default: 3,
          description:
            'mails a stranger can have sent to one account per hour (reset links, "someone tried to register" notices); further requests are answered alike and send nothing',
        },
      },
    },
    mail: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        from: { type: 'string', default: 'Turnpike <no-reply@turnpike.local>' },
        smtpUrl: {
          type: 'string',
          default: '',
          description: 'smtp(s)://user:pass@host:port; empty = write .eml files',
        },
        outboxDir: { type: 'string', default: '', description: 'empty = <dataDir>/outbox' },
      },
    },
    radius: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        listen: { type: 'array', items: { type: 'string' }, default: ['0.0.0.0', '::'] },
        authPort: { ...port, default: 1812 },
        acctPort: { ...port, default: 1813 },
        receiveBufferBytes: { type: 'integer', minimum: 65536, default: 8388608 },
        rejectDelayMs: { type: 'integer', minimum: 0, default: 1000 },
        duplicateWindowMs: { type: 'integer', minimum: 0, default: 30000 },
        interimIntervalSeconds: { type: 'integer', minimum: 60, default: 300 },
        staleFactor: { type: 'number', minimum: 1, default: 2.5 },
        passwordCacheSeconds: { type: 'integer', minimum: 0, default: 300 },
        coaTimeoutMs: { type: 'integer', minimum: 100, default: 2000 },
        coaRetries: { type: 'integer', minimum: 0, default: 3 },
        maxSessionsPerNas: {
          type: 'integer',
          minimum: 1,
          default: 10000,
          description: 'live sessions one NAS may hold; Starts beyond it are acknowledged and logged, not opened',
        },
      },
    },
    provisioner: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        embedded: { type: 'boolean', default: false, description: 'spawn a memory-driver provisioner' },
        targets: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['site', 'address'],
            properties: {
              site: { type: 'string' },
              address: { type: 'string' },
              clientCidrs: {
                type: 'array',
                items: { type: 'string' },
                default: [],
                description: 'guest networks this gateway serves; empty = any (the fallback target)',
              },
              accounts: { type: 'boolean', default: true, description: 'this host carries the SSH/FTP accounts' },
            },
          },
        },
        tlsDir: { type: 'string', default: '', description: 'empty = <dataDir>/pki' },
        reconcileIntervalSeconds: { type: 'integer', minimum: 5, default: 60 },
        callTimeoutMs: { type: 'integer', minimum: 100, default: 5000 },
        ftpQuotaBytes: { type: 'integer', minimum: 0, default: 1073741824, description: 'per account; 0 = none' },
        tlsServerNames: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'extra names/IPs on the provisioner certificate `turnpike init` issues',
        },
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false, description: 'the box is the router (nftables)' },
        walledGarden: { type: 'array', items: { type: 'string' }, default: [] },
        openEndedSessionSeconds: {
          type: 'integer',
          minimum: 60,
          default: 3600,
          description: 'firewall timeout for sessions without an end time; the reconcile loop renews it',
        },
      },
    },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        otlpEndpoint: {
          type: 'string',
          default: '',
          description: 'OTLP/HTTP traces URL (e.g. http://127.0.0.1:4318/v1/traces); empty = tracing off',
        },
        samplingRatio: { type: 'number', minimum: 0, maximum: 1, default: 1, description: 'share of new traces kept' },
        serviceName: { type: 'string', default: 'turnpike', description: 'service.name on every span' },
        metricsHost: {
          type: 'string',
          default: '127.0.0.1',
          description: 'monitoring listener (/metrics, /healthz, /readyz)',
        },
        metricsPort: { ...port, default: 9464, description: 'monitoring listener port; never the guest-facing one' },
        metricsBearerToken: {
          type: 'string',
          default: '',
          description: 'when set, /metrics asks for `Authorization: Bearer <token>`',
        },
      },
    },
    payments: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        provider: { type: 'string', enum: ['none', 'stripe-fake', 'stripe'], default: 'none' },
        secretKey: { type: 'string', default: '' },
        webhookSecret: { type: 'string', default: '' },
        apiBase: { type: 'string', default: '', description: 'override Stripe API base URL (the fake)' },
        graceDays: { type: 'integer', minimum: 0, default: 3 },
        eventPollSeconds: { type: 'integer', minimum: 10, default: 300 },
      },
    },
  },
} as const;

/** The configuration as the loader hands it out: every key present, its type read off the schema. */
export type Config = FromSchema<typeof configSchema>;

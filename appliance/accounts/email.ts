/** The one form an email address is stored, indexed and compared in. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export { createAuthentication, type Authentication } from './create-authentication.js';
export { createSessionAuthenticator, type SessionAuthenticator } from './authenticator.js';
export { setSessionCookies, clearSessionCookies, ACCESS_COOKIE, REFRESH_COOKIE } from './session-cookies.js';

// Calls to the vungtrong API: JSON in and out, the session cookie sent by the browser, and the
// session's CSRF token echoed on every state-changing request.

let csrfToken = '';

/** Remembers the CSRF token of the current session. */
export function setCSRF(token) {
  csrfToken = token || '';
}

/** An error answer of the API: its HTTP status, code, message, details and Retry-After. */
export class APIError extends Error {
  constructor(status, body, retryAfter) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code || 'internal';
    this.details = body?.error?.details || [];
    this.retryAfter = retryAfter;
  }
}

/** Sends a request and returns the parsed JSON answer (null for 204). Throws APIError. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new APIError(res.status, data, Number(res.headers.get('Retry-After') || 0));
  return data;
}

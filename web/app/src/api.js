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
    this.body = body?.error || null;
  }
}

/**
 * Sends a request and returns the parsed JSON answer (null for 204). extraHeaders add to the
 * request's (If-Match for edits). Throws APIError, which keeps the answer's body.
 */
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new APIError(res.status, data, Number(res.headers.get('Retry-After') || 0));
  return data;
}

/**
 * Sends a form with a file (multipart) and returns the parsed JSON answer. onProgress gets the
 * share of the upload sent so far (0 to 1): fetch cannot report an upload's progress, so this
 * uses XMLHttpRequest. Throws APIError.
 */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.withCredentials = true;
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new APIError(xhr.status, data, Number(xhr.getResponseHeader('Retry-After') || 0)));
    });
    xhr.addEventListener('error', () => reject(new TypeError('network error')));
    xhr.send(form);
  });
}

// The admin API client: the token from sessionStorage as a bearer credential, the API's
// JSON error shape turned into ApiError, and a 401 anywhere handed to the sign-in screen.

const TOKEN_KEY = 'cinevault-analytics.admin-token';

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let unauthorized = () => {};

/** Called with a message when the API answers 401 (a token revoked or wrong). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** True for the rejection of a request that its view aborted (not an error to show). */
export function isAbort(err) {
  return err?.name === 'AbortError';
}

/**
 * Calls `/api/v1<path>`. `query` values that are empty are left out; `body` is sent as JSON.
 * Resolves to the parsed answer (null for 204); rejects with ApiError.
 */
export async function api(path, { method = 'GET', query, body, signal, token = getToken() } = {}) {
  const url = new URL(`/api/v1${path}`, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'network', 'the sidecar did not answer (is it running?)');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;
  const error = data?.error ?? {};
  const apiError = new ApiError(
    response.status,
    error.code ?? 'http_error',
    error.message ?? `HTTP ${response.status}`,
    error.field ?? null,
  );
  if (response.status === 401) unauthorized(apiError);
  throw apiError;
}

// Type declarations for cometgate-client.mjs (copy both files into your app).

/** Storage key of the device id: `"cometgate.deviceId"`. */
export declare const DEVICE_ID_KEY: "cometgate.deviceId";
/** The token route cometgate serves by default: `"/cometchat-token"`. */
export declare const DEFAULT_TOKEN_PATH: "/cometchat-token";
/** The SDK error code for a token CometChat does not know. */
export declare const TOKEN_NOT_FOUND: "AUTH_ERR_AUTH_TOKEN_NOT_FOUND";
/** Default time one request to the backend may take: 20000 ms. */
export declare const DEFAULT_TIMEOUT_MS: number;

/** A key-value store; each method may return a value or a promise of it. */
export interface CometgateStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The CometChat calls the client makes; wrap the SDK or UI Kit you use. */
export interface CometgateSdk<User = unknown> {
  /** Logs in with an auth token, e.g. `(t) => CometChatUIKit.login({ authToken: t })`. */
  login(authToken: string): Promise<User>;
  /** Logs out of CometChat, e.g. `() => CometChatUIKit.logout()`. */
  logout(): Promise<unknown>;
  /** Who is logged in (null when nobody); when given, `logout()` skips the SDK logout for nobody. */
  getLoggedinUser?(): Promise<unknown | null> | unknown | null;
}

/** Headers as a plain object or a `Headers` instance. */
export type HeadersLike = Record<string, string> | { forEach(cb: (value: string, name: string) => void): void; get(name: string): string | null };

export interface CometgateClientOptions<User = unknown> {
  /** The token endpoint, e.g. `"https://api.myapp.example/cometchat-token"`. */
  tokenUrl: string | URL;
  /** The revoke endpoint; default `tokenUrl + "/revoke"`. */
  revokeUrl?: string | URL;
  /** Your app's own credentials for each request, e.g. `async () => ({ Authorization: "Bearer " + jwt })`. */
  getAuthHeaders?: () => HeadersLike | null | undefined | Promise<HeadersLike | null | undefined>;
  /** Where the device id is kept (expo-secure-store, AsyncStorage, localStorage adapters). */
  storage: CometgateStorage;
  /** The CometChat SDK calls. */
  sdk: CometgateSdk<User>;
  /** Storage key of the device id; default {@link DEVICE_ID_KEY}. */
  storageKey?: string;
  /** A fetch to use instead of the global one. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Passed to fetch as `credentials` (e.g. `"include"` for a cookie session on another origin). */
  credentials?: RequestCredentials;
  /** How long one request may take, in ms; 0 for no limit. Default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** What the token endpoint answered. `authToken` is non-enumerable: logging the object does not show it. */
export interface CometgateToken {
  readonly authToken: string;
  readonly uid: string;
  /** The device id the token belongs to (null only from a server without device support). */
  readonly deviceId: string | null;
  /** Unix seconds, or null: CometChat tokens do not expire on their own. */
  readonly expiresAt: number | null;
}

export interface CometgateLogin<User = unknown> {
  readonly uid: string;
  readonly deviceId: string | null;
  readonly expiresAt: number | null;
  /** True when a new token was minted (`refresh: true`) for this login. */
  readonly refreshed: boolean;
  /** What `sdk.login` resolved with. */
  readonly user: User;
}

export interface CometgateClient<User = unknown> {
  /**
   * Fetches the token for this device and logs the SDK in. If the SDK says
   * AUTH_ERR_AUTH_TOKEN_NOT_FOUND, fetches a new token (`refresh: true`) once and logs in again;
   * a second failure is thrown as the SDK raised it (SDK errors have the token replaced in their
   * message and stack). `refresh: true` asks for a new token at once.
   * Concurrent calls share one attempt.
   */
  login(options?: { refresh?: boolean }): Promise<CometgateLogin<User>>;
  /**
   * Revokes this device's token (or all of the user's with `all: true`) at the server, then logs
   * the SDK out. The SDK logs out even when the revoke failed; the revoke's error is then thrown.
   * Call it before signing out of your app: the revoke needs your app's credentials.
   */
  logout(options?: { all?: boolean }): Promise<void>;
  /** Asks the server for this device's token; stores the device id it answers with. */
  fetchToken(options?: { refresh?: boolean }): Promise<CometgateToken>;
  /** Revokes at the server only. Resolves false when there was no device id (nothing to revoke). */
  revoke(options?: { all?: boolean }): Promise<boolean>;
  /** The stored device id, or null (a malformed one is removed). */
  deviceId(): Promise<string | null>;
}

export declare function createCometgateClient<User = unknown>(options: CometgateClientOptions<User>): CometgateClient<User>;

export type CometgateErrorKind = "problem" | "network" | "timeout" | "invalid-response";

/** A failure talking to the token endpoint. Never contains a token. */
export declare class CometgateError extends Error {
  readonly name: "CometgateError";
  /** "problem": the server answered an error status; "network"/"timeout": no answer; "invalid-response": an unusable 2xx. */
  readonly kind: CometgateErrorKind;
  /** HTTP status, null without an answer. */
  readonly status: number | null;
  /** The problem type URI, e.g. "https://cometgate.dev/problems/rate-limited" ("about:blank" when the body was no problem). */
  readonly type: string | null;
  readonly title: string | null;
  readonly detail: string | null;
  /** The server's request id (body `requestId`, else the `x-request-id` header). */
  readonly requestId: string | null;
  /** Seconds to wait before asking again (from `Retry-After` on 429/503), or null. Nothing retries on its own. */
  readonly retryAfter: number | null;
  readonly cause?: unknown;
}

export declare function isCometgateError(error: unknown): error is CometgateError;
/** True for a device id the server accepts: 1 to 128 of `A-Z a-z 0-9 . _ : -`. */
export declare function isValidDeviceId(value: unknown): value is string;
/** True when an SDK error has code AUTH_ERR_AUTH_TOKEN_NOT_FOUND. */
export declare function isTokenNotFound(error: unknown): boolean;
/** Seconds from a `Retry-After` value (delta-seconds or HTTP-date), or null; `now` in ms. */
export declare function parseRetryAfter(value: string | null | undefined, now?: number): number | null;

/**
 * Connection failures that happen before a request is written: the server never saw it, so
 * nothing ran and resending is safe. Read from the socket's error code, never its message.
 */
const NEVER_CONNECTED: Readonly<Record<string, string>> = {
  ECONNREFUSED: "the connection was refused: nothing listens on that port",
  ENOTFOUND: "the host name does not resolve (DNS)",
  EAI_AGAIN: "the host name could not be resolved (DNS, temporary failure)",
  EHOSTUNREACH: "there is no route to the host",
  ENETUNREACH: "there is no route to the host's network",
  UND_ERR_CONNECT_TIMEOUT: "the connection was not accepted in time",
};

/**
 * The ports fetch refuses to connect to (the Fetch Standard's "bad port" list). Node's fetch
 * fails on them at once, with no error code, before any connection is made.
 */
const BLOCKED_PORTS = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
  103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
  512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
  995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
  6669, 6679, 6697, 10080,
]);

/** Why a connection to `url` that failed with socket code `code` was never made, or `undefined` when it may have been. */
export function unreachableReason(code: string | undefined, url: URL): string | undefined {
  if (code !== undefined) return Object.hasOwn(NEVER_CONNECTED, code) ? code : undefined;
  return url.port !== "" && BLOCKED_PORTS.has(Number(url.port)) ? "bad_port" : undefined;
}

/** `host:port`, the port spelled out even when it is the scheme's default. */
export function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** What a {@link unreachableReason} means, in words. */
export function unreachableWords(reason: string, url: URL): string {
  if (reason === "bad_port") {
    return `port ${url.port} is one fetch refuses to connect to (a blocked port)`;
  }
  return `${NEVER_CONNECTED[reason] ?? "the connection failed"} (${reason})`;
}

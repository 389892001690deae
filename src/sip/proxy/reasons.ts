// Standard reason phrases for the statuses trunkgate generates itself.
const PHRASES: Record<number, string> = {
  100: "Trying", 200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
  416: "Unsupported URI Scheme", 420: "Bad Extension", 480: "Temporarily Unavailable",
  481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops", 487: "Request Terminated",
  488: "Not Acceptable Here", 500: "Server Internal Error", 502: "Bad Gateway", 503: "Service Unavailable",
  504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
};

export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? (status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : status < 600 ? "Server Error" : "Global Failure");
}

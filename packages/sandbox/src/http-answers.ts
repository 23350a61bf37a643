import type { Answer } from "./envelope.ts";
import { requestId } from "./envelope.ts";

const reasons: Record<number, string> = {
  404: "Not Found",
  413: "Request Entity Too Large",
  414: "Request-URI Too Long",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
};

// §13.1: HTTP-level errors come from the gateway; their body format is unverified. We answer
// a small HTML page, as an nginx-style gateway does, so clients must not expect JSON.
function gatewayPage(status: number): string {
  const title = `${status} ${reasons[status] ?? "Error"}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** Turns an Answer into a fetch Response; envelopes get their requestId first. */
export function toResponse(
  answer: Answer,
  call: number,
  now: number,
): { response: Response; requestId: string | undefined } {
  switch (answer.kind) {
    case "envelope": {
      const id = requestId(call, now);
      return {
        requestId: id,
        response: new Response(JSON.stringify({ requestId: id, ...answer.body }), {
          status: 200,
          headers: { "content-type": "application/json;charset=UTF-8" },
        }),
      };
    }
    case "file":
      return {
        requestId: undefined,
        response: new Response(answer.text, {
          status: 200,
          headers: { "content-type": answer.contentType },
        }),
      };
    case "json":
      return {
        requestId: undefined,
        response: new Response(JSON.stringify(answer.body), {
          status: answer.status,
          headers: {
            "content-type": "application/json;charset=UTF-8",
            "cache-control": "no-store",
          },
        }),
      };
    case "http":
      return {
        requestId: undefined,
        response: new Response(gatewayPage(answer.status), {
          status: answer.status,
          headers: { "content-type": "text/html", connection: "close" },
        }),
      };
    case "reset":
      return { requestId: undefined, response: new Response(null, { status: 500 }) };
  }
}

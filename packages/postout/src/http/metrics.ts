import { Gauge, Registry } from "prom-client";
import type { Gateway } from "../gateway.ts";
import type { Store } from "../store/store.ts";

/**
 * The gateway's Prometheus metrics, read from the store and the clients when scraped (one
 * registry per app, so two apps in one process do not share metrics).
 */
export function gatewayMetrics(gateway: Gateway, store: Store): Registry {
  const registry = new Registry();
  new Gauge({
    name: "postout_leads",
    help: "Leads by status.",
    labelNames: ["status"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, n] of Object.entries(await store.countByStatus({})))
        this.set({ status }, n);
    },
  });
  new Gauge({
    name: "postout_attempts",
    help: "Rows of the post-out log, by ResponseStatusCode (200 for success); calls the client sent again included.",
    labelNames: ["code"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [code, n] of Object.entries(await store.countByCode({}))) this.set({ code }, n);
    },
  });
  new Gauge({
    name: "postout_queue_depth",
    help: "Leads waiting to be sent (queued, retrying, sending or paused), by destination.",
    labelNames: ["destination"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { name } of gateway.destinations) {
        const s = await store.countByStatus({ destination: name });
        this.set(
          { destination: name },
          (s.queued ?? 0) + (s.retrying ?? 0) + (s.sending ?? 0) + (s.paused ?? 0),
        );
      }
    },
  });
  new Gauge({
    name: "postout_marketo_calls",
    help: "REST calls this process made to Marketo since it started, by destination and answer code.",
    labelNames: ["destination", "code"],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of gateway.destinations) {
        for (const [code, n] of d.calls) this.set({ destination: d.name, code }, n);
      }
    },
  });
  new Gauge({
    name: "postout_marketo_throttled",
    help: "606 and 615 answers since this process started, by destination, code and cause: self when the gateway's own calls alone reach Marketo's limit (100 in 20 s, 10 in flight), foreign when other apps' calls filled the instance.",
    labelNames: ["destination", "code", "cause"],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of gateway.destinations) {
        for (const [code, byCause] of d.throttled) {
          for (const [cause, n] of Object.entries(byCause))
            this.set({ destination: d.name, code, cause }, n);
        }
      }
    },
  });
  new Gauge({
    name: "postout_quota_used",
    help: "Calls counted against the destination's daily quota today (America/Chicago day).",
    labelNames: ["destination"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of gateway.destinations) {
        this.set({ destination: d.name }, (await d.client.gateState()).quotaUsed);
      }
    },
  });
  return registry;
}

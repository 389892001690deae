// The capabilities trunkgate runs, in start order. Each builder returns undefined when its section
// is disabled in the config.
import type { ComponentBuilder } from "./app.js";
import { httpComponent } from "./http/component.js";
import { createProvisioningComponent } from "./provisioning/component.js";
import { CallRecorder } from "./sip/call-recorder.js";
import { sipComponent } from "./sip/component.js";
import { defaultPeerRoute, defaultRoute } from "./sip/route/decision.js";
import { numberPeerRoute, numberRoute } from "./sip/route/number-route.js";

/**
 * SIP: the proxy, with provisioned numbers choosing services (and adding their header) at the
 * route decision point, and call records taken from its call events.
 */
const sip: ComponentBuilder = async (s) => {
  const cfg = s.config.sip;
  if (!cfg.enabled) return undefined;
  const nr = cfg.numberRouting;
  const recorder = new CallRecorder(s.data.callRecords, {
    now: s.now,
    assumeInternational: nr.assumeInternational,
    maxCallMs: cfg.timeouts.dialogIdleMs,
  });
  const routing = nr.enabled
    ? {
        route: numberRoute(s.data.numbers, defaultRoute(cfg.defaultUpstream ?? cfg.upstreams[0]?.name), nr),
        routeToPeer: numberPeerRoute(s.data.numbers, defaultPeerRoute(s.config.peers), nr),
      }
    : {};
  const { component } = sipComponent(s, { ...routing, calls: recorder });
  const sweep = setInterval(() => recorder.sweep(), 60_000);
  sweep.unref();
  return {
    ...component,
    async close() {
      clearInterval(sweep);
      await component.close();
      recorder.flushLive();
    },
  };
};

const http: ComponentBuilder = async (s) => (s.config.http.enabled ? httpComponent(s) : undefined);

const provisioning: ComponentBuilder = async (s) =>
  s.config.provisioning.enabled ? createProvisioningComponent(s, s.data.store) : undefined;

export const defaultComponents: ComponentBuilder[] = [sip, http, provisioning];

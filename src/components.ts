// The capabilities trunkgate runs, in start order. Each builder returns undefined when its section
// is disabled in the config.
import type { ComponentBuilder } from "./app.js";
import { httpComponent } from "./http/component.js";
import { createProvisioningComponent } from "./provisioning/component.js";
import { listenerComponent } from "./listener/listener-component.js";

const sip: ComponentBuilder = async (s) => {
  if (!s.config.sip.enabled) return undefined;
  // Placeholder until the SIP proxy is wired: hold authenticated connections open.
  return listenerComponent("sip", s, s.config.sip.listen, ({ socket }) => {
    socket.setTimeout(s.config.sip.timeouts.idleMs, () => socket.destroy());
    socket.resume();
  }).component;
};

const http: ComponentBuilder = async (s) => (s.config.http.enabled ? httpComponent(s) : undefined);

const provisioning: ComponentBuilder = async (s) =>
  s.config.provisioning.enabled ? createProvisioningComponent(s, s.data.store) : undefined;

export const defaultComponents: ComponentBuilder[] = [sip, http, provisioning];

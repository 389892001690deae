// The capabilities trunkgate runs, in start order. Each builder returns undefined when its section
// is disabled in the config.
import type { ComponentBuilder } from "./app.js";
import { httpComponent } from "./http/component.js";
import { createProvisioningComponent } from "./provisioning/component.js";
import { sipComponent } from "./sip/component.js";

const sip: ComponentBuilder = async (s) => (s.config.sip.enabled ? sipComponent(s).component : undefined);

const http: ComponentBuilder = async (s) => (s.config.http.enabled ? httpComponent(s) : undefined);

const provisioning: ComponentBuilder = async (s) =>
  s.config.provisioning.enabled ? createProvisioningComponent(s, s.data.store) : undefined;

export const defaultComponents: ComponentBuilder[] = [sip, http, provisioning];

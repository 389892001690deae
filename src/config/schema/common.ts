// Shared building blocks for the configuration schema. Every object is strict: an unknown key is a
// configuration error that names the key, never something silently ignored.
import { z } from "zod";

export const port = z.number().int().min(0).max(65535);
export const host = z.string().min(1);
export const filePath = z.string().min(1);

export const listen = (defaultHost: string, defaultPort: number) =>
  z.strictObject({ host: host.default(defaultHost), port: port.default(defaultPort) }).prefault({});

export const seconds = z.number().positive();
export const positiveInt = z.number().int().positive();

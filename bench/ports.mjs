// The benchmark's ports: every listener of a run (peers, load generators, trunkgate) gets a
// loopback TCP port that is free right now, so `npm run bench` runs beside whatever else holds the
// usual ones (5061, 5070, 8443, ...). bench.sh evaluates the output:
//
//   node bench/ports.mjs [--fixed] NAME=DEFAULT[:BLOCK] ...
//     -> stdout: `export NAME=PORT` lines; stderr: one line per port moved off a taken default
//
// BLOCK: that many consecutive ports from PORT (Kamailio listens on KAM_PORT..KAM_PORT+2).
// A port given in the environment (NAME=5099 npm run bench) is the user's choice: used as it is,
// or refused when taken. With --fixed (env BENCH_FIXED_PORTS=1) no default moves either: a taken
// port is refused. A refusal names the variable and the port and exits 2.
// A moved port is the next free one above its default that no other name of this run claims,
// below the kernel's ephemeral range (32768+, where the load's own client sockets live) when the
// default is.
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const EPHEMERAL_START = 32768;

/** True when 127.0.0.1:port can be bound for listening right now (nothing else listens there). */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ host: "127.0.0.1", port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function blockIsFree(first, size) {
  for (let p = first; p < first + size; p++) if (!(await portIsFree(p))) return false;
  return true;
}

/**
 * specs: [{ name, port, block, explicit }] in order. Returns { ports: {name: port}, moved: [...] }
 * or throws an Error whose message names the variable and the taken port.
 */
export async function allocatePorts(specs, { fixed = false } = {}) {
  const claimed = new Set(); // ports of this run: every default, then every choice
  for (const s of specs) for (let p = s.port; p < s.port + s.block; p++) claimed.add(p);
  const ports = {};
  const moved = [];
  for (const s of specs) {
    if (await blockIsFree(s.port, s.block)) {
      ports[s.name] = s.port;
      continue;
    }
    const what = s.block > 1 ? `ports ${s.port}-${s.port + s.block - 1}` : `port ${s.port}`;
    if (s.explicit || fixed) {
      throw new Error(`${s.name}: ${what} on 127.0.0.1 is taken by another process` +
        (s.explicit ? " (set in the environment)" : " (--fixed ports)") + "; free it or choose another");
    }
    // stay below the ephemeral range when the default is (a default inside it may search to the top)
    const limit = s.port < EPHEMERAL_START ? EPHEMERAL_START : 65536;
    let p = s.port + s.block;
    for (; p + s.block <= limit; p++) {
      let clash = false;
      for (let q = p; q < p + s.block; q++) if (claimed.has(q)) clash = true;
      if (!clash && (await blockIsFree(p, s.block))) break;
    }
    if (p + s.block > limit) throw new Error(`${s.name}: ${what} is taken and no free port was found above it`);
    for (let q = p; q < p + s.block; q++) claimed.add(q);
    ports[s.name] = p;
    moved.push(`${s.name}: ${what} taken, using ${p}${s.block > 1 ? `-${p + s.block - 1}` : ""}`);
  }
  return { ports, moved };
}

/** "NAME=5061:3" -> { name, port, block, explicit } (explicit when the environment sets NAME). */
export function parseSpec(arg, env = process.env) {
  const m = /^([A-Z][A-Z0-9_]*)=(\d+)(?::(\d+))?$/.exec(arg);
  if (!m) throw new Error(`bad port spec ${JSON.stringify(arg)} (NAME=PORT or NAME=PORT:BLOCK)`);
  const [, name, def, block = "1"] = m;
  const fromEnv = env[name];
  if (fromEnv !== undefined && fromEnv !== "" && !/^\d+$/.test(fromEnv)) throw new Error(`${name}=${fromEnv}: a port number please`);
  const port = Number(fromEnv || def);
  if (port < 1 || port > 65535) throw new Error(`${name}: port ${port} out of range`);
  return { name, port, block: Number(block), explicit: Boolean(fromEnv) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const fixed = args.includes("--fixed") || process.env.BENCH_FIXED_PORTS === "1";
  try {
    const specs = args.filter((a) => a !== "--fixed").map((a) => parseSpec(a));
    const { ports, moved } = await allocatePorts(specs, { fixed });
    for (const line of moved) console.error(`bench: ${line}`);
    for (const [name, port] of Object.entries(ports)) console.log(`export ${name}=${port}`);
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
}

// The call-record writer's worker thread (started by CallRecordWorkerWriter): opens its own store
// connection (SQLite in WAL mode allows it; PostgreSQL is a pool anyway) with the keyring material
// it was handed, and writes each posted batch with insertMany — encryption, blind indexes, the
// INSERTs and the statistics roll-up all run here, off the SIP event loop. Batches are written one
// at a time in arrival order; each gets exactly one answer (done or failed). It never logs: errors
// go back to the main thread as one-line summaries, and the keys never leave this memory.
import { parentPort, workerData } from "node:worker_threads";
import { CallRecordError } from "./call-records.js";
import { decodeWire, errorSummary, fromWireKeyring, type FromWorker, type ToWorker, type WorkerInit } from "./call-record-wire.js";
import { openStore, type Store } from "./store.js";

const port = parentPort;
if (!port) throw new Error("call-record-worker.ts runs only as a worker thread");
const init = workerData as WorkerInit;
let keyring = fromWireKeyring(init.keyring);

let store: Store | null = null;
let committed = 0;
let chain: Promise<void> = Promise.resolve();

port.on("message", (m: ToWorker) => {
  chain = chain.then(() => handle(m));
});

function post(m: FromWorker): void {
  port!.postMessage(m);
}

async function handle(m: ToWorker): Promise<void> {
  if (m.type === "keyring") {
    // Applied between batches (messages are handled in order): every later batch uses the new key.
    keyring = fromWireKeyring(m.keyring);
    store?.useKeyring(keyring);
    post({ type: "keyring", active: keyring.active });
    return;
  }
  if (m.type === "close") {
    const s = store;
    store = null;
    await s?.close().catch(() => {});
    post({ type: "closed" });
    return;
  }
  try {
    // Opened lazily and re-tried per batch: a database that is down at start-up is the same case
    // as one that goes down later (the batch fails, the main thread keeps it and retries).
    store ??= await openStore({ url: init.url, keyring, baseDir: init.baseDir });
    const { written, invalid } = await writeBatch(store, m.id, decodeWire(m.data));
    if (++committed === init.exitAfterBatches) process.exit(1); // test hook: committed, never acknowledged
    post({ type: "done", id: m.id, written, invalid });
  } catch (err) {
    post({ type: "failed", id: m.id, error: errorSummary(err) });
  }
}

/**
 * Ids derive from the batch id, so a batch written again (its acknowledgement died with a previous
 * worker) skips what is already stored. A batch with an invalid record is written one by one so
 * only the bad records are lost.
 */
async function writeBatch(s: Store, batchId: string, records: ReturnType<typeof decodeWire>): Promise<{ written: number; invalid: string[] }> {
  try {
    return { written: await s.callRecords.insertMany(records, { batchId, journalOwner: init.journalOwner }), invalid: [] };
  } catch (err) {
    if (!(err instanceof CallRecordError)) throw err;
  }
  let written = 0;
  const invalid: string[] = [];
  for (let i = 0; i < records.length; i++) {
    try {
      written += await s.callRecords.insertMany([records[i]!], { batchId, offset: i, journalOwner: init.journalOwner });
    } catch (e) {
      if (!(e instanceof CallRecordError)) throw e;
      invalid.push(e.message);
    }
  }
  return { written, invalid };
}

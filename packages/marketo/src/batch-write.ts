import { cutBatches, halves } from "./batch.ts";
import type { Caller, FailedTry } from "./call.ts";
import { HttpLevelError, isMarketoError, type MarketoError } from "./errors.ts";
import type { Endpoint } from "./options.ts";
import { type BatchResult, failed, matchItems, merge, type RecordResult } from "./results.ts";
import { mayHaveExecuted, type Transport } from "./transport.ts";

/**
 * Looks up records whose write may have run; returns their results, or indices safe to resend.
 * `sentAt` (epoch ms) is when the first call that may have run them was handed to the network.
 */
export type Verify<I> = (
  batch: readonly number[],
  inputs: readonly I[],
  error: MarketoError,
  sentAt: number,
) => Promise<{ readonly settled: RecordResult<I>[]; readonly resend: number[] }>;

/**
 * A call of a batch write whose answer did not become its records' results, because the client
 * sent those records again: the same batch after a backoff or a new token (`retry`), in halves
 * after a 413 or 604 (`split`), or after looking up what a lost create did (`verify`).
 */
export interface RetriedCall {
  readonly endpoint: Endpoint;
  /** Indices into the write's inputs of the records the call carried that were sent again. */
  readonly records: readonly number[];
  readonly error: MarketoError;
  /** The call's try number within its batch, from 1. */
  readonly attempt: number;
  readonly durationMs: number;
  readonly then: "retry" | "split" | "verify";
}

/** A call of a batch write about to be handed to the network (it holds its slot and token). */
export interface SendingCall {
  readonly endpoint: Endpoint;
  /** Indices into the write's inputs of the records the call carries. */
  readonly records: readonly number[];
  /** The call's try number within its batch, from 1. */
  readonly attempt: number;
}

/** Options every batch write takes. */
export interface WriteOptions {
  /**
   * Told of each call whose records were sent again; with the results, which come from each
   * record's last call, every call that carried a record is accounted for (a post-out log).
   * Awaited before the records are sent again.
   * @default none
   */
  onRetriedCall?: (call: RetriedCall) => unknown;
  /**
   * Awaited before each call leaves, once it holds its gate slot: the caller can note durably
   * which records may reach Marketo (a crash after this point leaves them uncertain; before
   * it, they were never sent). When it throws, the call is not sent.
   * @default none
   */
  onSending?: (call: SendingCall) => unknown;
}

export interface BatchWrite<I> extends WriteOptions {
  readonly endpoint: Endpoint;
  readonly path: string;
  readonly inputs: readonly I[];
  /** The body's other members; `input` is added per batch. */
  readonly envelope: Readonly<Record<string, unknown>>;
  /** False when a replay could write twice (createOnly, createDuplicate, activities). */
  readonly replaySafe: boolean;
  /** For writes that are not replay safe: how to find out what a lost call did. */
  readonly verify?: Verify<I>;
  /** How one input goes on the wire (e.g. a list's lead id as `{ id }`). */
  readonly wire?: (input: I) => unknown;
}

export interface BatchWriterConfig {
  readonly caller: Caller;
  readonly transport: Transport;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly bisectFloor: number;
  /** Epoch ms: when a call was handed to the network, for verifying a lost create. */
  readonly now: () => number;
}

/**
 * Sends a write of any size: cut at the record and byte limits, each batch through the gate;
 * 413 splits a batch in two, 604 bisects it down to the floor; every input gets one result.
 */
export async function writeBatches<I>(
  config: BatchWriterConfig,
  write: BatchWrite<I>,
): Promise<BatchResult<I>> {
  const { inputs } = write;
  const wire = write.wire ? inputs.map(write.wire) : inputs;
  const cut = cutBatches(
    wire,
    { maxRecords: config.maxRecords, maxBytes: config.maxBytes },
    write.envelope,
  );
  const requestIds: string[] = [];
  const parts: RecordResult<I>[] = [];

  for (const index of cut.oversized) {
    const tooBig = new HttpLevelError({
      code: "413",
      status: 413,
      message: `Not sent: this record alone makes a body over ${config.maxBytes} bytes`,
    });
    parts.push(failed(index, inputs[index] as I, tooBig));
  }

  const send = async (batch: number[], verifyDepth: number): Promise<RecordResult<I>[]> => {
    // The try the caller gave up on, kept in case this layer sends the records again.
    let lastTry: FailedTry | undefined;
    // When the first try that may have run these records left: a lost create is looked for
    // among the leads Marketo created from then on.
    let firstSentAt: number | undefined;
    const retried = async (t: FailedTry, then: RetriedCall["then"], records: readonly number[]) => {
      if (!write.onRetriedCall) return;
      try {
        const { error, attempt, durationMs } = t;
        await write.onRetriedCall({
          endpoint: write.endpoint,
          records,
          error,
          attempt,
          durationMs,
          then,
        });
      } catch (hookError) {
        config.transport.logger?.warn?.("onRetriedCall hook threw", { error: String(hookError) });
      }
    };
    try {
      const envelope = await config.caller.call<unknown>(
        {
          endpoint: write.endpoint,
          method: "POST",
          path: write.path,
          body: { ...write.envelope, input: batch.map((i) => wire[i]) },
        },
        {
          replaySafe: write.replaySafe,
          bisect: batch.length > config.bisectFloor,
          onFailedTry: async (t) => {
            if (t.retried) await retried(t, "retry", batch);
            else lastTry = t;
          },
          onSend: async (attempt) => {
            firstSentAt ??= config.now();
            await write.onSending?.({ endpoint: write.endpoint, records: batch, attempt });
          },
        },
      );
      if (envelope.requestId) requestIds.push(envelope.requestId);
      return matchItems(batch, inputs, envelope.result, envelope.requestId);
    } catch (error) {
      if (!isMarketoError(error)) throw error;
      if (error.requestId) requestIds.push(error.requestId);
      const splitBy413 = error.code === "413" && batch.length > 1;
      const bisectBy604 = error.code === "604" && batch.length > config.bisectFloor;
      if (splitBy413 || bisectBy604) {
        if (lastTry) await retried(lastTry, "split", batch);
        config.transport.emit({
          type: "split",
          endpoint: write.endpoint,
          code: error.code,
          records: batch.length,
        });
        const [first, second] = halves(batch);
        const done = await Promise.all([send(first, verifyDepth), send(second, verifyDepth)]);
        return done.flat();
      }
      if (!write.replaySafe && mayHaveExecuted(error)) {
        if (!write.verify || verifyDepth >= 2) {
          return batch.map((i) => unknownAfter(i, inputs[i] as I, error));
        }
        const sentAt = firstSentAt ?? config.now();
        const { settled, resend } = await write.verify(batch, inputs, error, sentAt);
        // Only the records sent again: for the ones the lookup settled, the lost call stays
        // their last call (their result says what the lookup found).
        if (lastTry && resend.length > 0) await retried(lastTry, "verify", resend);
        const again = resend.length > 0 ? await send(resend, verifyDepth + 1) : [];
        return [...settled, ...again];
      }
      return batch.map((i) => failed(i, inputs[i] as I, error));
    }
  };

  const done = await Promise.all(cut.batches.map((batch) => send(batch, 0)));
  for (const results of done) parts.push(...results);
  return merge(inputs, parts, requestIds);
}

function unknownAfter<I>(index: number, input: I, error: MarketoError): RecordResult<I> {
  return {
    index,
    input,
    status: "unknown",
    id: undefined,
    marketoStatus: undefined,
    reasons: [
      {
        code: "verify",
        message: `The call ended with ${error.code} and may have been carried out; it was not replayed. Verify this record in Marketo.`,
        entry: undefined,
        values: {},
      },
    ],
    requestId: undefined,
    error,
  };
}

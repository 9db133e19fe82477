/**
 * Per-input-series memo of an alerting rule: the template expansions and the alert label set
 * computed for a series at the last evaluation, so the next evaluation can reuse them.
 *
 * Why not a `Map<labelsKey, entry>` rebuilt at every evaluation: the engine hands out fresh
 * label-set objects for most results, so the string key (all names and values concatenated) was
 * rebuilt for every series at every evaluation, plus a new map — the bulk of the rule layer's
 * garbage. Here entries are found by the 32-bit {@link seriesHash} (no allocation) and confirmed
 * with {@link labelsEqual}; the table is updated in place and swept of series that were not
 * seen, so a steady set of series allocates nothing for bookkeeping.
 */
import { labelsEqual, type Labels } from '../model/labels.js';

/**
 * 32-bit FNV-1a over the label names and values (with separators). Indexed loops on purpose:
 * `for...of` over the label array left an iterator object per call in profiles.
 */
export function seriesHash(ls: Labels): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    const n = l.name;
    for (let j = 0; j < n.length; j++) h = Math.imul(h ^ n.charCodeAt(j), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193);
    const v = l.value;
    for (let j = 0; j < v.length; j++) h = Math.imul(h ^ v.charCodeAt(j), 0x01000193);
    h = Math.imul(h ^ 0xfe, 0x01000193);
  }
  return h >>> 0;
}

/** Expansion results and alert labels for one input series. */
export interface SeriesMemo {
  /** The input label set last seen (the newest object, so identity checks hit when reused). */
  metric: Labels;
  /** Next entry with the same hash (collision chain). */
  next: SeriesMemo | undefined;
  /** Evaluation sequence number that last saw this series. */
  seen: number;
  /** Sample value the expansions were made with. */
  value: number;
  /** Expanded rule labels, then annotations, in template order. */
  vals: readonly string[];
  /** Output label set of the alert, and its key. */
  labels: Labels;
  key: string;
  annotations: Labels;
}

/** Fields of a new {@link SeriesMemo} (the table sets the bookkeeping ones). */
export type SeriesMemoInit = Omit<SeriesMemo, 'next' | 'seen'>;

/** Hash-keyed table of {@link SeriesMemo}s with a mark-and-sweep per evaluation. */
export class SeriesMemoTable {
  private byHash = new Map<number, SeriesMemo>();
  private size = 0;
  private gen = 0;
  private seenThisGen = 0;

  /** Starts an evaluation: entries not touched before {@link endEval} are dropped then. */
  beginEval(): void {
    this.gen++;
    this.seenThisGen = 0;
  }

  /** The entry for label set `metric` with hash `hash` (see {@link seriesHash}), if any. */
  find(hash: number, metric: Labels): SeriesMemo | undefined {
    for (let e = this.byHash.get(hash); e !== undefined; e = e.next) {
      if (e.metric === metric || labelsEqual(e.metric, metric)) return e;
    }
    return undefined;
  }

  /** Marks `e` (from {@link find}) as seen in this evaluation. */
  touch(e: SeriesMemo): void {
    if (e.seen !== this.gen) {
      e.seen = this.gen;
      this.seenThisGen++;
    }
  }

  /** Adds an entry for a series {@link find} did not know, marked as seen. */
  add(hash: number, init: SeriesMemoInit): SeriesMemo {
    const e: SeriesMemo = { ...init, next: this.byHash.get(hash), seen: this.gen };
    this.byHash.set(hash, e);
    this.size++;
    this.seenThisGen++;
    return e;
  }

  /** Ends a (successful) evaluation: drops the entries of series that were not seen. */
  endEval(): void {
    if (this.seenThisGen === this.size) return; // the common steady state: nothing vanished
    const gen = this.gen;
    // forEach rather than for-of: no [key, value] pair per entry. Deleting or replacing the
    // current key while iterating is allowed for Maps.
    this.byHash.forEach((head, hash) => {
      let first: SeriesMemo | undefined;
      let last: SeriesMemo | undefined;
      for (let e: SeriesMemo | undefined = head; e !== undefined; e = e.next) {
        if (e.seen !== gen) {
          this.size--;
          continue;
        }
        if (last === undefined) first = e;
        else last.next = e;
        last = e;
      }
      if (last !== undefined) last.next = undefined;
      if (first === undefined) this.byHash.delete(hash);
      else if (first !== head) this.byHash.set(hash, first);
    });
  }

  /** Forgets everything (the expansions' inputs changed, e.g. external labels). */
  clear(): void {
    this.byHash = new Map();
    this.size = 0;
    this.seenThisGen = 0;
  }
}

/**
 * Label order of the head's series for sorted selects. Sorting by label sets costs a string
 * comparison per step (a 100k-series select spent most of its time there), so the order of all
 * series is computed once and remembered as a rank per slot; a select then sorts ranks as
 * numbers. Series created after the last ranking have no rank and are sorted by their labels
 * and merged in, until enough of them accumulate to make re-ranking worth it.
 */
import type { SeriesReader } from './series-reader.js';
import type { SeriesTable } from './series-table.js';

/** Re-rank when a select meets at least this many unranked series… */
const RERANK_MIN = 1024;
/**
 * …they are at least this share of the select, and the head grew by this share of the ranked
 * series since the last ranking (or the select's unranked ones alone are that many): ranking
 * sorts every series, so a small select of new series (new alerts, a new pod) must not trigger it.
 */
const RERANK_SHARE = 1 / 8;

/** Ranks of the head's series in label order; see the file comment. */
export class SortOrder {
  /** Rank of a slot (valid when {@link rankRef} holds the slot's current ref). */
  private rank = new Uint32Array(0);
  /** The ref a slot had when ranked: refs are never reused, so a reused slot mismatches. */
  private rankRef = new Uint32Array(0);
  /** Slot of each rank at the last ranking. */
  private slotByRank = new Int32Array(0);
  private ranked = 0;
  /** Number of full rankings done (for tests). */
  rankings = 0;

  private readonly st: SeriesTable;

  /** @param rd the read path (label comparison) over the table whose slots are ranked. */
  constructor(private readonly rd: SeriesReader) {
    this.st = rd.st;
  }

  private hasRank(ix: number): boolean {
    return ix < this.rankRef.length && this.rankRef[ix] === this.st.ref[ix] && this.rankRef[ix] !== 0;
  }

  /** Sorts the slots `ixs[0..n)` in place by their label sets (ascending, as `labelsCompare`). */
  sort(ixs: Int32Array, n: number): void {
    if (n < 2) return;
    let unranked = 0;
    for (let i = 0; i < n; i++) if (!this.hasRank(ixs[i]!)) unranked++;
    const r = this.ranked;
    if (unranked >= RERANK_MIN && unranked >= n * RERANK_SHARE && (r === 0 || this.st.size - r >= r * RERANK_SHARE || unranked >= r * RERANK_SHARE)) {
      this.rerank();
      unranked = 0;
      for (let i = 0; i < n; i++) if (!this.hasRank(ixs[i]!)) unranked++;
    }
    const rd = this.rd;
    if (unranked === n) {
      const part = Array.from(ixs.subarray(0, n)).sort((a, b) => rd.compareSlots(a, b));
      for (let i = 0; i < n; i++) ixs[i] = part[i]!;
      return;
    }
    // Ranked slots: numeric sort of their ranks; the rest by labels; then one merge.
    const ranks = new Uint32Array(n - unranked);
    const rest: number[] = [];
    let k = 0;
    for (let i = 0; i < n; i++) {
      const ix = ixs[i]!;
      if (this.hasRank(ix)) ranks[k++] = this.rank[ix]!;
      else rest.push(ix);
    }
    ranks.sort();
    if (rest.length === 0) {
      for (let i = 0; i < k; i++) ixs[i] = this.slotByRank[ranks[i]!]!;
      return;
    }
    rest.sort((a, b) => rd.compareSlots(a, b));
    let i = 0;
    let j = 0;
    let o = 0;
    while (i < k && j < rest.length) {
      const a = this.slotByRank[ranks[i]!]!;
      const b = rest[j]!;
      if (rd.compareSlots(a, b) <= 0) {
        ixs[o++] = a;
        i++;
      } else {
        ixs[o++] = b;
        j++;
      }
    }
    while (i < k) ixs[o++] = this.slotByRank[ranks[i++]!]!;
    while (j < rest.length) ixs[o++] = rest[j++]!;
  }

  /** Ranks every live series (visible or not) from scratch. */
  private rerank(): void {
    const st = this.st;
    const rd = this.rd;
    const all: number[] = [];
    st.forEach((ix) => all.push(ix));
    all.sort((a, b) => rd.compareSlots(a, b));
    const cap = st.ref.length;
    if (this.rank.length < cap) {
      this.rank = new Uint32Array(cap);
      this.rankRef = new Uint32Array(cap);
    } else {
      this.rankRef.fill(0);
    }
    if (this.slotByRank.length < all.length || this.slotByRank.length > 2 * all.length + 1024) this.slotByRank = new Int32Array(all.length);
    for (let r = 0; r < all.length; r++) {
      const ix = all[r]!;
      this.rank[ix] = r;
      this.rankRef[ix] = st.ref[ix]!;
      this.slotByRank[r] = ix;
    }
    this.ranked = all.length;
    this.rankings++;
  }

  /** Bytes held (for memory accounting). */
  get bytes(): number {
    return this.rank.byteLength + this.rankRef.byteLength + this.slotByRank.byteLength;
  }

  /** Number of series ranked at the last ranking. */
  get rankedSeries(): number {
    return this.ranked;
  }
}

import type { Db, User } from '../domain/model.js';
import type { Store } from '../store/store.js';

/** The words of a text, lower-cased: `Ada.Lovelace@Example.test` → ada, lovelace, example, test. */
export function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

function wordsOfUser(user: Pick<User, 'email' | 'displayName'>): string[] {
  return [...new Set(wordsOf(`${user.email} ${user.displayName}`))];
}

/** The first position in sorted `words` not before `word`. */
function lowerBound(words: readonly string[], word: string): number {
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (words[mid]! < word) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What a query found: every matching user id, or `common` when its rarest word starts too many words to gather. */
export type IndexAnswer = { kind: 'ids'; ids: string[] } | { kind: 'common' } | { kind: 'no-words' };

/**
 * Who has which words in their email and name, kept current from the store's changes, so a
 * people search reads the users whose words start with the query's rarest word instead of
 * every account. Built on the first search (a few hundred ms at 100k accounts), then updated
 * per changed account: a sign-up costs its handful of words, not a rebuild.
 */
export class PeopleIndex {
  readonly #db: () => Readonly<Db>;
  readonly #wordsOfUser = new Map<string, readonly string[]>();
  readonly #usersOfWord = new Map<string, string[]>();
  /** Distinct words, sorted, for prefix ranges. */
  #sorted: string[] = [];
  #built = false;

  /** Above this many users behind the rarest word, the caller walks the newest accounts instead. */
  static readonly GATHER_LIMIT = 5_000;

  constructor(store: Pick<Store, 'db' | 'onChange'>) {
    this.#db = () => store.db;
    store.onChange((record) => {
      if (!this.#built) return;
      for (const change of record.changes) {
        if (change.table !== 'users') continue;
        this.#remove(change.id, true);
        if (change.value !== null) this.#add(change.id, change.value as User, true);
      }
    });
  }

  /** The words an account is found by (the index is built if it was not). */
  wordsOf(userId: string): readonly string[] {
    this.#build();
    return this.#wordsOfUser.get(userId) ?? [];
  }

  /** Users each of whose query words starts one of their words. */
  find(query: string): IndexAnswer {
    const words = wordsOf(query);
    if (words.length === 0) return { kind: 'no-words' };
    this.#build();
    let best: { from: number; to: number; size: number } | null = null;
    for (const word of new Set(words)) {
      const from = lowerBound(this.#sorted, word);
      let size = 0;
      let to = from;
      // Only as far as beats the best so far: a one-letter word must not count half the index.
      while (to < this.#sorted.length && this.#sorted[to]!.startsWith(word)) {
        size += this.#usersOfWord.get(this.#sorted[to]!)!.length;
        to += 1;
        if (best && size >= best.size) break;
        if (size > PeopleIndex.GATHER_LIMIT) break;
      }
      if (!best || size < best.size) best = { from, to, size };
      if (size === 0) return { kind: 'ids', ids: [] };
    }
    if (!best || best.size > PeopleIndex.GATHER_LIMIT) return { kind: 'common' };
    const gathered = new Set<string>();
    for (let i = best.from; i < best.to; i += 1)
      for (const id of this.#usersOfWord.get(this.#sorted[i]!)!) gathered.add(id);
    const ids = [...gathered].filter((id) => PeopleIndex.matches(this.#wordsOfUser.get(id) ?? [], words));
    return { kind: 'ids', ids };
  }

  /** True when every query word starts one of the account's words. */
  static matches(accountWords: readonly string[], queryWords: readonly string[]): boolean {
    return queryWords.every((word) => accountWords.some((candidate) => candidate.startsWith(word)));
  }

  #build(): void {
    if (this.#built) return;
    for (const user of Object.values(this.#db().users)) this.#add(user.id, user, false);
    this.#sorted = [...this.#usersOfWord.keys()].sort();
    this.#built = true;
  }

  #add(id: string, user: User, keepSorted: boolean): void {
    const words = wordsOfUser(user);
    this.#wordsOfUser.set(id, words);
    for (const word of words) {
      const users = this.#usersOfWord.get(word);
      if (users) {
        users.push(id);
        continue;
      }
      this.#usersOfWord.set(word, [id]);
      if (keepSorted) this.#sorted.splice(lowerBound(this.#sorted, word), 0, word);
    }
  }

  #remove(id: string, keepSorted: boolean): void {
    const words = this.#wordsOfUser.get(id);
    if (!words) return;
    this.#wordsOfUser.delete(id);
    for (const word of words) {
      const users = this.#usersOfWord.get(word)!;
      users.splice(users.indexOf(id), 1);
      if (users.length > 0) continue;
      this.#usersOfWord.delete(word);
      if (keepSorted) this.#sorted.splice(lowerBound(this.#sorted, word), 1);
    }
  }
}

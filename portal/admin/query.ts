/** Query-string values as the console's list pages read them: bounded text and a page number. */
export function queryText(value: unknown, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

export function queryPage(value: unknown): number {
  const page = Number(value);
  return Number.isSafeInteger(page) && page > 0 ? page : 1;
}

/** A link to another page of the same list, keeping its filters. */
export function pageLink(path: string, filter: Record<string, string>, page: number): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== '') params.set(key, value);
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

export interface Pager {
  page: number;
  pages: number | null;
  total: number | null;
  prev: string | null;
  next: string | null;
}

/** Previous/next links for a list page; `pages` is null where the total is not counted (audit log). */
export function pagerOf(
  path: string,
  filter: Record<string, string>,
  at: { page: number; pages?: number; total?: number; hasMore?: boolean },
): Pager {
  const hasNext = at.pages !== undefined ? at.page < at.pages : at.hasMore === true;
  return {
    page: at.page,
    pages: at.pages ?? null,
    total: at.total ?? null,
    prev: at.page > 1 ? pageLink(path, filter, at.page - 1) : null,
    next: hasNext ? pageLink(path, filter, at.page + 1) : null,
  };
}

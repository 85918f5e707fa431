/** One page of a list, with what a pager needs to link the neighbours. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pages: number;
  perPage: number;
}

export const PER_PAGE = 50;

/** Page numbers start at 1; a page past the end shows the last one. */
export function pageOf<T>(all: readonly T[], page: number, perPage = PER_PAGE): Page<T> {
  const pages = Math.max(1, Math.ceil(all.length / perPage));
  const current = Math.min(Math.max(1, Number.isSafeInteger(page) ? page : 1), pages);
  const start = (current - 1) * perPage;
  return { items: all.slice(start, start + perPage), total: all.length, page: current, pages, perPage };
}

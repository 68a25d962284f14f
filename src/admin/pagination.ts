import { z } from 'zod';
import { workspaceIdSchema } from '../domain/model.js';
import type { Catalog, RecordOf } from '../stores/catalog.js';
import type { EntityKind } from '../stores/keys.js';

export const DEFAULT_PAGE_SIZE = 50;
/** With a filter, how many store pages one request may scan before it returns what it found. */
const MAX_SCAN_PAGES = 20;

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).optional().describe('page size; capped by the server (admin.page_size_max)'),
  cursor: z.string().min(1).max(256).optional().describe('next_cursor of the previous page'),
  workspace_id: workspaceIdSchema.optional().describe('only records of this workspace'),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export interface ListResponse<T> {
  readonly data: T[];
  readonly next_cursor: string | null;
}

/**
 * One page in id order. Without a filter it is the store's page as is; with `workspace_id` it scans
 * store pages until it has found one match more than the page holds, the ids run out or the scan
 * budget is spent (then the page may be short, and the cursor is the last id looked at). Following
 * next_cursor visits every match exactly once.
 */
export async function listPage<K extends EntityKind>(
  catalog: Catalog,
  kind: K,
  query: ListQuery,
  pageSizeMax: number,
): Promise<ListResponse<RecordOf<K>>> {
  const limit = Math.min(query.limit ?? Math.min(DEFAULT_PAGE_SIZE, pageSizeMax), pageSizeMax);
  const workspace = query.workspace_id;
  if (workspace === undefined) {
    const page = await catalog.list(kind, query.cursor ?? null, limit);
    return { data: page.items, next_cursor: page.next_cursor };
  }
  // Looks for one match more than the page holds: then, and only then, there is a next page.
  const found: RecordOf<K>[] = [];
  let cursor = query.cursor ?? null;
  for (let scanned = 0; scanned < MAX_SCAN_PAGES; scanned++) {
    const page = await catalog.list(kind, cursor, pageSizeMax);
    for (const item of page.items) {
      if (item.workspace_id !== workspace) continue;
      found.push(item);
      if (found.length > limit) return { data: found.slice(0, limit), next_cursor: found[limit - 1]!.id };
    }
    if (page.next_cursor === null) return { data: found, next_cursor: null };
    cursor = page.next_cursor;
  }
  return { data: found, next_cursor: cursor };
}

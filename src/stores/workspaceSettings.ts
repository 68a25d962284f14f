import type { RedisKeys } from './keys.js';
import type { RedisClient } from './redis.js';

/** Countries a workspace may call when it has not said otherwise: worldwide (trunks still restrict). */
export const DEFAULT_WORKSPACE_COUNTRIES: readonly string[] = ['*'];

export interface WorkspaceSettingsStore {
  /** The workspace's allowed outbound countries; throws when Redis cannot answer. */
  allowedCountries(workspaceId: string): Promise<readonly string[]>;
}

export class RedisWorkspaceSettings implements WorkspaceSettingsStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async allowedCountries(workspaceId: string): Promise<readonly string[]> {
    const raw = await this.redis.hget(this.keys.workspaceSettings(workspaceId), 'allowed_countries');
    if (raw === null) return DEFAULT_WORKSPACE_COUNTRIES;
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((c): c is string => typeof c === 'string') : DEFAULT_WORKSPACE_COUNTRIES;
  }
}

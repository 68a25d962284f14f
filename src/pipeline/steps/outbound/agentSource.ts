import type { AgentRecord } from '../../../domain/model.js';
import type { RouteStore } from '../../../stores/routeStore.js';
import { proceed, reject, type Decision, type SipRequestView } from '../../types.js';

/**
 * Outbound step 1: the request comes from the agent infrastructure (the caller checked the
 * source against sip.agent_cidrs), and the agent it names in X-Agent-Id exists. The header is
 * only believed because the source is trusted; from anywhere else it is stripped/ignored.
 */
export async function identifyAgent(req: SipRequestView, store: RouteStore): Promise<Decision<AgentRecord>> {
  const agentId = req.header('x-agent-id')?.trim();
  if (!agentId) return reject('source_not_agent', 'outbound INVITE without X-Agent-Id');
  const found = await store.agent(agentId);
  if (found.status === 'unavailable') return reject('route_unavailable', `route store unavailable: ${found.error.message}`);
  if (found.status === 'absent') return reject('source_not_agent', `agent ${agentId} does not exist`);
  return proceed(found.value);
}

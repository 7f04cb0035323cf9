// How a campaign and its delivery figures are shown to organisers over the API.
import type { Campaign } from '../../db/schema.js';
import type { CampaignState, CampaignStats } from './campaigns.service.js';

export function campaignView(campaign: Campaign, state: CampaignState, clusterSlug: string, stats: CampaignStats) {
  return {
    id: campaign.id,
    cluster: clusterSlug,
    subject: campaign.subject,
    topic: campaign.topic,
    theme: campaign.theme,
    status: state,
    rate: campaign.rate,
    createdAt: campaign.createdAt.toISOString(),
    startedAt: campaign.startedAt?.toISOString() ?? null,
    finishedAt: campaign.finishedAt?.toISOString() ?? null,
    scheduledAt: campaign.scheduledAt?.toISOString() ?? null,
    stats,
    sendCommand: `npm run convene -- newsletter resume ${campaign.id}`,
  };
}

import { z } from 'zod';
import { secret } from '../kit/secret.ts';

export const CAMPAIGN_MONITOR_BASE_URL = 'https://api.createsend.com/api/v3.3';

/**
 * Campaign Monitor publishes no rate limit for the lists and subscribers endpoints (only `/transactional/*`
 * is documented, with an example limit of 60). Five requests a second is a conservative guess: an import
 * carries 1,000 subscribers, so adds still reach 5,000 a second, while mirror removals (one call per
 * address) stay well clear of any undocumented throttle. Raise it per connection with `requestsPerSecond`.
 * https://www.campaignmonitor.com/api/v3-3/getting-started/
 */
export const DEFAULT_REQUESTS_PER_SECOND = 5;

export const connectionSchema = z.object({
  /** Sent as the HTTP Basic user name; Campaign Monitor ignores the password. */
  apiKey: secret(z.string().trim().min(1)),
  baseUrl: z.url().default(CAMPAIGN_MONITOR_BASE_URL),
  requestsPerSecond: z.number().positive().max(1000).optional(),
});

export type CampaignMonitorConnection = z.infer<typeof connectionSchema>;

// Shared fixtures for the domain's instance tests: one template and a create body for it, at a fixed "now".
import { CreateEventBody, CreateTemplateBody, type EventTemplate } from "./model";

export const NOW = Date.parse("2026-12-01T00:00:00Z");
export const template: EventTemplate = {
  ...CreateTemplateBody.parse({
    templateId: "winter",
    type: "seasonal",
    tier: "major",
    name: "Winter",
    objectives: [{ objectiveId: "a", description: "A", type: "collect", targetValue: 10, trackingKey: "k" }],
    milestones: [
      { index: 0, progressThreshold: 0.5, rewards: [{ rewardId: "r0", type: "currency", itemId: "coins", quantity: 5 }] },
      { index: 1, progressThreshold: 1 },
    ],
    theme: { color: "blue", font: "serif" },
  }),
  version: 3,
  usageCount: 0,
  performance: { averageCompletionRate: null, averageRppu: null, reportedEvents: 0 },
  lastUsed: null,
  createdAt: "",
  updatedAt: "",
};
export const body = (o: Record<string, unknown> = {}) =>
  CreateEventBody.parse({ templateId: "winter", startTime: "2026-12-02T00:00:00Z", endTime: "2026-12-03T00:00:00Z", ...o });


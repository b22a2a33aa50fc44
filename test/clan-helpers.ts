// The cooperative event most clan tests play: a clan-scoped raid objective with two clan milestones, beside an
// individual objective that keeps the member's own progress working.
import { coins } from "./leaderboard-helpers";

export const OBJECTIVES = [
  { objectiveId: "boss-damage", description: "Damage the raid boss", type: "collect", targetValue: 1000, trackingKey: "raid.damage" },
  { objectiveId: "own-wins", description: "Win your own fights", type: "collect", targetValue: 5, trackingKey: "arena.wins" },
];
export const CLAN = {
  objectiveIds: ["boss-damage"],
  milestones: [
    { index: 0, progressThreshold: 0.5, rewards: coins(50), unlockMessage: "Halfway" },
    { index: 1, progressThreshold: 1, rewards: coins(200), unlockMessage: "Boss down" },
  ],
};

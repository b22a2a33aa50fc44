// Template storage. Templates are low-traffic ops config, so they live in D1 only, with no actor in front.
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { CreateTemplateBody, EventTemplate, EventTier, EventType, UpdateTemplateBody } from "../domain/model";
import type { TemplatePerformance } from "../domain/analytics";
import { iso } from "../domain/time";
import { templateVersions, templates } from "./schema";

type Row = typeof templates.$inferSelect;

function fromRow(r: Row): EventTemplate {
  return {
    templateId: r.templateId,
    type: r.eventType as EventType,
    tier: r.tier as EventTier,
    name: r.name,
    description: r.description,
    objectives: r.objectives as EventTemplate["objectives"],
    milestones: r.milestones as EventTemplate["milestones"],
    progressionMechanics: r.progressionMechanics ?? undefined,
    shardCount: r.shardCount ?? undefined,
    expectedParticipants: r.expectedParticipants ?? undefined,
    theme: r.themeConfig as Record<string, unknown>,
    layout: r.uiLayoutConfig as Record<string, unknown>,
    requiresLeaderboard: r.requiresLeaderboard,
    leaderboard: (r.leaderboard as EventTemplate["leaderboard"]) ?? undefined,
    requiresClan: r.requiresClan,
    clan: (r.clan as EventTemplate["clan"]) ?? undefined,
    minimumPlayerLevel: r.minimumPlayerLevel,
    difficulty: r.difficulty ?? undefined,
    averageEngagementScore: r.averageEngagementScore,
    performance: { averageCompletionRate: r.averageCompletionRate, averageRppu: r.averageRppu, reportedEvents: r.reportedEvents },
    version: r.version,
    usageCount: r.usageCount,
    lastUsed: r.lastUsed === null ? null : iso(r.lastUsed),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

function columns(body: UpdateTemplateBody) {
  return {
    eventType: body.type,
    tier: body.tier,
    name: body.name,
    description: body.description,
    objectives: body.objectives,
    milestones: body.milestones,
    progressionMechanics: body.progressionMechanics ?? null,
    shardCount: body.shardCount ?? null,
    expectedParticipants: body.expectedParticipants ?? null,
    themeConfig: body.theme,
    uiLayoutConfig: body.layout,
    // A board implies the flag the seed's model has for it.
    requiresLeaderboard: body.requiresLeaderboard || body.leaderboard !== undefined,
    leaderboard: body.leaderboard ?? null,
    requiresClan: body.requiresClan,
    clan: body.clan ?? null,
    minimumPlayerLevel: body.minimumPlayerLevel,
    difficulty: body.difficulty ?? null,
    averageEngagementScore: body.averageEngagementScore,
  };
}

/**
 * A template row's editable fields as one JSON document, in SQL: the version history is written from the row the same
 * batch just wrote, so it holds exactly what was stored (migrations/0021 backfilled existing templates the same way).
 */
const VERSION_DOCUMENT = `json_object('type', event_type, 'tier', tier, 'name', name, 'description', description,
  'objectives', json(objectives), 'milestones', json(milestones), 'progressionMechanics', progression_mechanics,
  'theme', json(theme_config), 'layout', json(ui_layout_config),
  'requiresLeaderboard', json(CASE WHEN requires_leaderboard THEN 'true' ELSE 'false' END), 'leaderboard', json(leaderboard),
  'requiresClan', json(CASE WHEN requires_clan THEN 'true' ELSE 'false' END), 'clan', json(clan),
  'minimumPlayerLevel', minimum_player_level, 'difficulty', difficulty, 'shardCount', shard_count, 'expectedParticipants', expected_participants)`;
/**
 * Records the template's current version, only when the statement before it in the batch wrote the row (SQLite's
 * changes()): a refused create or a stale update writes no history. A repeat of the same version is ignored.
 */
const recordVersion = (db: ReturnType<typeof drizzle>, templateId: string, actor: string) =>
  db
    .insert(templateVersions)
    .select(
      db
        .select({
          templateId: templates.templateId,
          version: templates.version,
          document: sql<unknown>`${sql.raw(VERSION_DOCUMENT)}`.as("document"),
          savedAt: templates.updatedAt,
          savedBy: sql<string>`${actor}`.as("saved_by"),
        })
        .from(templates)
        .where(and(eq(templates.templateId, templateId), sql`changes() > 0`)),
    )
    .onConflictDoNothing();

/** Returns null when the id is taken: INSERT OR IGNORE keeps the check and the write one atomic statement. */
export async function insertTemplate(d1: D1Database, body: CreateTemplateBody, now: number, actor = "unknown"): Promise<EventTemplate | null> {
  const db = drizzle(d1);
  const [rows] = await db.batch([
    db
      .insert(templates)
      .values({ templateId: body.templateId, ...columns(body), version: 1, usageCount: 0, createdAt: now, updatedAt: now })
      .onConflictDoNothing()
      .returning(),
    recordVersion(db, body.templateId, actor),
  ]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * Null when there is no such template or, with expectedVersion, when it is no longer that version (someone else saved
 * in between): the version check and the write are one statement.
 */
export async function updateTemplate(d1: D1Database, templateId: string, body: UpdateTemplateBody, now: number, actor = "unknown"): Promise<EventTemplate | null> {
  const db = drizzle(d1);
  const { expectedVersion } = body;
  const update = db
    .update(templates)
    .set({
      ...columns(body),
      // Once the template's events have reports, its engagement score is theirs (setTemplatePerformance), not the body's.
      // A body without the field keeps the stored score.
      averageEngagementScore:
        body.averageEngagementScore === undefined
          ? sql`${templates.averageEngagementScore}`
          : sql`CASE WHEN ${templates.reportedEvents} > 0 THEN ${templates.averageEngagementScore} ELSE ${body.averageEngagementScore} END`,
      version: sql`${templates.version} + 1`,
      updatedAt: now,
    })
    .where(and(eq(templates.templateId, templateId), expectedVersion === undefined ? undefined : eq(templates.version, expectedVersion)))
    .returning();
  const [rows] = await db.batch([update, recordVersion(db, templateId, actor)]);
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Saved versions of a template, newest first. Fields a version did not have (null in SQL) are left out, as GET does. */
export async function listTemplateVersions(d1: D1Database, templateId: string, limit: number) {
  const rows = await drizzle(d1)
    .select()
    .from(templateVersions)
    .where(eq(templateVersions.templateId, templateId))
    .orderBy(desc(templateVersions.version))
    .limit(limit);
  return rows.map((r) => {
    // The engagement score is a measurement, not something a version edits (0021's backfill still carried it).
    const doc = Object.fromEntries(Object.entries(r.document as Record<string, unknown>).filter(([k, v]) => v !== null && k !== "averageEngagementScore"));
    return { version: r.version, savedAt: iso(r.savedAt), savedBy: r.savedBy, template: doc };
  });
}

export async function getTemplate(d1: D1Database, templateId: string): Promise<EventTemplate | null> {
  const rows = await drizzle(d1).select().from(templates).where(eq(templates.templateId, templateId)).limit(1);
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function listTemplates(
  d1: D1Database,
  f: { type?: EventType; tier?: EventTier; sort?: "usage" | "engagement" | "completion" | "rppu"; limit: number; offset: number },
): Promise<EventTemplate[]> {
  const where: SQL[] = [];
  if (f.type) where.push(eq(templates.eventType, f.type));
  if (f.tier) where.push(eq(templates.tier, f.tier));
  const order =
    f.sort === "usage"
      ? [desc(templates.usageCount), desc(templates.averageEngagementScore)]
      : f.sort === "engagement"
        ? [sql`${templates.averageEngagementScore} IS NULL`, desc(templates.averageEngagementScore), desc(templates.usageCount)]
        : f.sort === "completion"
          ? [sql`${templates.averageCompletionRate} IS NULL`, desc(templates.averageCompletionRate), desc(templates.usageCount)]
          : f.sort === "rppu"
            ? [sql`${templates.averageRppu} IS NULL`, desc(templates.averageRppu), desc(templates.usageCount)]
            : [templates.templateId];
  const rows = await drizzle(d1)
    .select()
    .from(templates)
    .where(where.length ? and(...where) : undefined)
    .orderBy(...order, templates.templateId)
    .limit(f.limit)
    .offset(f.offset);
  return rows.map(fromRow);
}

/**
 * Template performance from its events' reports (domain/analytics templatePerformance): the engagement mean becomes
 * averageEngagementScore, which the library's `sort=engagement` orders by; completion and RPPU have sorts of their own.
 */
export async function setTemplatePerformance(d1: D1Database, templateId: string, perf: TemplatePerformance) {
  await drizzle(d1)
    .update(templates)
    .set({ averageEngagementScore: perf.engagementScore, averageCompletionRate: perf.completionRate, averageRppu: perf.rppu, reportedEvents: perf.events })
    .where(eq(templates.templateId, templateId));
}

/** The seed's "update template usage stats" step of CreateFromTemplate. */
export async function recordTemplateUse(d1: D1Database, templateId: string, now: number) {
  await drizzle(d1)
    .update(templates)
    .set({ usageCount: sql`${templates.usageCount} + 1`, lastUsed: now })
    .where(eq(templates.templateId, templateId));
}

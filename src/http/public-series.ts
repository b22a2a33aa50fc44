// Player views name the series an event belongs to (domain/series-public.ts): one D1 read per answer, whatever the
// number of events listed, never one per event.
import { publicSeriesLinks } from "../db/series";
import { renderPublicSeries, type PublicSeries } from "../domain/series-public";

/** Reads the links of the listed events at once; the answer renders each event's `series` (null when none). */
export async function seriesOf(d1: D1Database, eventIds: string[]): Promise<(eventId: string) => PublicSeries> {
  const links = await publicSeriesLinks(d1, eventIds);
  return (eventId) => renderPublicSeries(links.get(eventId));
}

import { DurableObject } from "cloudflare:workers";

export class CalendarActor extends DurableObject<Env> {}

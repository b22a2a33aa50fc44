// The names zones are pushed under. workerd's ICU lists and resolves some zones under their old ids (Asia/Calcutta,
// Europe/Kiev, America/Godthab), while phones report the current IANA names (Asia/Kolkata, Europe/Kyiv, America/Nuuk)
// and subscribe to per-zone topics by them. A wave's `zones` (its feed row and its topic pushes) therefore use the
// IANA name: fixed here, not left to the runtime, so an ICU update cannot rename every such topic behind our back.
// zone-names.test.ts checks, inside workerd, that each entry names one zone, and that every zone.tab name maps to itself.

/** Old id the runtime may use → the current IANA name (tzdata's `backward` links whose new name is in zone.tab). */
export const IANA_NAMES: Readonly<Record<string, string>> = {
  "Africa/Asmera": "Africa/Asmara",
  "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
  "America/Catamarca": "America/Argentina/Catamarca",
  "America/Coral_Harbour": "America/Atikokan",
  "America/Cordoba": "America/Argentina/Cordoba",
  "America/Godthab": "America/Nuuk",
  "America/Indianapolis": "America/Indiana/Indianapolis",
  "America/Jujuy": "America/Argentina/Jujuy",
  "America/Louisville": "America/Kentucky/Louisville",
  "America/Mendoza": "America/Argentina/Mendoza",
  "Asia/Calcutta": "Asia/Kolkata",
  "Asia/Katmandu": "Asia/Kathmandu",
  "Asia/Rangoon": "Asia/Yangon",
  "Asia/Saigon": "Asia/Ho_Chi_Minh",
  "Atlantic/Faeroe": "Atlantic/Faroe",
  "Europe/Kiev": "Europe/Kyiv",
  "Pacific/Enderbury": "Pacific/Kanton",
  "Pacific/Ponape": "Pacific/Pohnpei",
  "Pacific/Truk": "Pacific/Chuuk",
};

/** A zone id as the runtime gives it, under its current IANA name (the name itself when it is current already). */
export const ianaName = (runtimeId: string): string => IANA_NAMES[runtimeId] ?? runtimeId;

// Pitch slots: a pure function of the huddle's start and its pitch settings.
export interface PitchLayout {
  slotCount: number;
  slotMinutes: number;
  changeoverMinutes: number;
  /** Minutes after the huddle starts that the first pitch starts. */
  startOffsetMinutes: number;
}

export interface SlotTime {
  position: number;
  startsAt: Date;
  endsAt: Date;
}

const MINUTE = 60_000;

/** Minutes from the huddle's start to the end of the last pitch. */
export function pitchBlockEnd(layout: PitchLayout): number {
  if (layout.slotCount === 0) return layout.startOffsetMinutes;
  return layout.startOffsetMinutes + layout.slotCount * layout.slotMinutes + (layout.slotCount - 1) * layout.changeoverMinutes;
}

/** Slots in order, back to back with the changeover between them. Positions start at 1. */
export function computeSlots(huddleStart: Date, layout: PitchLayout): SlotTime[] {
  const first = huddleStart.getTime() + layout.startOffsetMinutes * MINUTE;
  const step = (layout.slotMinutes + layout.changeoverMinutes) * MINUTE;
  return Array.from({ length: layout.slotCount }, (_, index) => {
    const startsAt = first + index * step;
    return { position: index + 1, startsAt: new Date(startsAt), endsAt: new Date(startsAt + layout.slotMinutes * MINUTE) };
  });
}

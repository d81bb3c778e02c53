/** Spend of the current UTC day, per model, kept in process for dashboards (`adminSummary`). */
export class CostToday {
  private day = '';
  /** The current day's bounds in ms: the date string is only rebuilt when the clock leaves them. */
  private dayStart = Infinity;
  private dayEnd = -Infinity;
  private total = 0;
  private readonly byModel = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  private roll(): void {
    const now = this.clock();
    if (now >= this.dayStart && now < this.dayEnd) return;
    const day = new Date(now).toISOString().slice(0, 10);
    this.dayStart = Date.parse(`${day}T00:00:00.000Z`);
    this.dayEnd = this.dayStart + 86_400_000;
    if (day !== this.day) {
      this.day = day;
      this.total = 0;
      this.byModel.clear();
    }
  }

  add(model: string, usd: number): void {
    this.roll();
    this.total += usd;
    this.byModel.set(model, (this.byModel.get(model) ?? 0) + usd);
  }

  snapshot(): { day: string; usd: number; byModel: Record<string, number> } {
    this.roll();
    return { day: this.day, usd: this.total, byModel: Object.fromEntries(this.byModel) };
  }
}

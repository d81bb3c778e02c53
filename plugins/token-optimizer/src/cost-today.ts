/** Spend of the current UTC day, per model, kept in process for dashboards (`adminSummary`). */
export class CostToday {
  private day = '';
  private total = 0;
  private readonly byModel = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  private roll(): void {
    const day = new Date(this.clock()).toISOString().slice(0, 10);
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

import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../domain/model.js';
import { trustFiguresOf, type NasTrustFigures } from '../nas/nas-trust.js';

/**
 * Each NAS's trust figures as Prometheus sees them, read from the shared store at scrape time (so
 * every appliance reports the same values, whichever one saw the packets). One series per NAS of
 * the operator's NAS table: never a guest, session or address.
 */
export function registerNasTrustMetrics(registry: Registry, db: () => Readonly<Db>): void {
  const registers = [registry];
  const eachNas = (visit: (nas: string, figures: NasTrustFigures) => void): void => {
    const state = db();
    for (const row of Object.values(state.nasTrust ?? {})) {
      const nas = state.nasClients[row.nasId]?.name;
      if (nas) visit(nas, trustFiguresOf(row));
    }
  };
  const gauge = (name: string, help: string, value: (figures: NasTrustFigures) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['nas'],
      registers,
      collect() {
        this.reset();
        eachNas((nas, figures) => {
          const v = value(figures);
          if (v !== null) this.set({ nas }, v);
        });
      },
    });
  };
  const counter = (name: string, help: string, value: (figures: NasTrustFigures) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['nas'],
      registers,
      collect() {
        this.reset();
        eachNas((nas, figures) => this.inc({ nas }, value(figures)));
      },
    });
  };
  gauge(
    'turnpike_nas_last_seen_timestamp_seconds',
    'When the NAS last sent a packet that passed authentication',
    (f) => (f.lastSeenAt === null ? null : Math.floor(f.lastSeenAt / 1000)),
  );
  gauge(
    'turnpike_nas_interim_gap_median_seconds',
    "Median gap between a session's accounting updates, as the NAS really sends them",
    (f) => f.interim.medianSeconds,
  );
  gauge(
    'turnpike_nas_interim_interval_configured_seconds',
    'The Acct-Interim-Interval the NAS was told',
    (f) => f.interim.configuredSeconds,
  );
  gauge(
    'turnpike_nas_message_authenticator_on_access_request',
    "1 when the NAS's latest Access-Request carried Message-Authenticator, 0 when it did not",
    (f) =>
      f.messageAuthenticator.sendsOnAccessRequest === null ? null : f.messageAuthenticator.sendsOnAccessRequest ? 1 : 0,
  );
  counter(
    'turnpike_nas_missing_stops_total',
    'Sessions of the NAS that the stale sweep closed because no Accounting-Stop came (every appliance)',
    (f) => f.missingStops,
  );
  counter(
    'turnpike_nas_acks_but_keeps_forwarding_total',
    'Disconnect-ACKs from the NAS after which accounting showed the session going on (every appliance)',
    (f) => f.acksButKeepsForwarding,
  );
}

/**
 * In-process mode: the flag set arrives over flagd.sync.v1 SyncFlags (the whole set on subscribe
 * and after every change) and is evaluated here by @vexil/core, so an evaluation is a function
 * call. `sync_context` from the daemon goes through `contextEnricher` and is merged over each
 * evaluation's context (as the official provider's hook does: the daemon's values win).
 */
import * as grpc from '@grpc/grpc-js';
import { type EvaluationContext, type JsonValue, type Logger, type ResolutionDetails } from '@openfeature/server-sdk';
import type { JsonObject as ProtoJsonObject } from '@bufbuild/protobuf';
import { syncV1 } from '@vexil/proto';
import { grpcServiceDefinition } from '@vexil/proto/grpc-js';
import { FLAGD_SELECTOR_HEADER } from '@vexil/shared';
import { channelOf, type ChannelSettings } from '../grpc/channel.js';
import { LocalFlags } from './local-flags.js';
import type { FlagType, Resolver, ResolverEvents } from './resolver.js';
import { startSession, type Session } from './stream-session.js';

const SyncClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(syncV1.FlagSyncService), 'FlagSyncService');

export interface InProcessSettings extends ChannelSettings {
  selector?: string;
  providerId?: string;
  deadlineMs: number;
  streamDeadlineMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  fatalStatusCodes: ReadonlySet<number>;
  contextEnricher: (syncContext: EvaluationContext | null) => EvaluationContext;
}

type SyncResponse = { flagConfiguration: string; syncContext?: ProtoJsonObject };

export class InProcessResolver implements Resolver {
  private readonly flags: LocalFlags;
  private readonly client: grpc.Client;
  private readonly target: string;
  private session: Session | undefined;
  /** The enricher's output for the latest sync_context; undefined when it adds nothing. */
  private enrichment: EvaluationContext | undefined;

  constructor(
    private readonly settings: InProcessSettings,
    private readonly logger?: Logger,
  ) {
    const channel = channelOf(settings);
    this.target = channel.target;
    this.client = new SyncClient(channel.target, channel.credentials, channel.options);
    this.flags = new LocalFlags(logger, `sync ${channel.target}`);
    this.enrich(null);
  }

  connect(events: ResolverEvents): Promise<void> {
    const s = this.settings;
    const metadata = new grpc.Metadata();
    if (s.selector) metadata.set(FLAGD_SELECTOR_HEADER, s.selector);
    // Older daemons read the selector from the request; newer ones from the header. Send both.
    const request = { selector: s.selector ?? '', providerId: s.providerId ?? '' };
    const session = startSession<SyncResponse>(
      {
        label: `sync stream to ${this.target}`,
        settings: s,
        open: (deadline) =>
          (this.client as unknown as { SyncFlags(r: unknown, md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientReadableStream<SyncResponse> }).SyncFlags(
            request,
            metadata,
            deadline ? { deadline } : {},
          ),
        handle: (msg) => {
          if (msg.syncContext !== undefined) this.enrich(msg.syncContext as EvaluationContext);
          // A refused document keeps the last good set and announces nothing (LocalFlags logs it).
          // After an outage, `changed` is the difference to the set kept meanwhile.
          const outcome = this.flags.load(msg.flagConfiguration);
          return outcome.ok ? { current: true, changed: outcome.changed } : undefined;
        },
      },
      events,
    );
    this.session = session;
    return session.ready;
  }

  async disconnect(): Promise<void> {
    this.session?.stop();
    this.session = undefined;
    this.client.close();
  }

  resolve<T extends JsonValue>(type: FlagType, flagKey: string, defaultValue: T, context: EvaluationContext, _logger: Logger): ResolutionDetails<T> {
    const ctx = this.enrichment === undefined ? context : { ...context, ...this.enrichment };
    return this.flags.resolve(type, flagKey, defaultValue, ctx);
  }

  clearCache(): void {}

  private enrich(syncContext: EvaluationContext | null): void {
    let enriched: EvaluationContext;
    try {
      enriched = this.settings.contextEnricher(syncContext);
    } catch (err) {
      this.logger?.error(`contextEnricher threw: ${err instanceof Error ? err.message : String(err)}; the sync context is not applied`);
      enriched = {};
    }
    this.enrichment = enriched && Object.keys(enriched).length > 0 ? enriched : undefined;
  }
}

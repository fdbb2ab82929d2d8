// OpenTelemetry tracing of a worker's workflows and activities (docs/deploy.md, "Tracing"). Loaded only by a
// worker started with an OTLP endpoint.
import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { WorkerOptions } from '@temporalio/worker';

/** The SDK's workflow interceptors, bundled into the workflow code: spans for workflows and the activities they start. */
const workflowInterceptors = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * Worker options that trace every workflow and activity to an OTLP/HTTP traces endpoint (e.g.
 * http://collector:4318/v1/traces), spans named by Temporal's interceptors (RunWorkflow:agentRun,
 * StartActivity:toolExec, RunActivity:toolExec) and linked across workers and hosts through the Temporal headers.
 * Spans are exported in batches; the last batch is flushed when the worker stops.
 */
export function tracingWorkerOptions(endpoint: string, host: string): Required<Pick<WorkerOptions, 'interceptors' | 'sinks' | 'plugins'>> {
  const resource = new Resource({ 'service.name': 'mlgym-worker', 'mlgym.host': host });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  trace.setGlobalTracerProvider(provider);
  // The activity interceptor reads its parent span from the Temporal headers the workflow interceptor wrote, and
  // makes it the active context for the activity's span: both need these globals.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return {
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
    interceptors: {
      workflowModules: [workflowInterceptors],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    plugins: [
      {
        name: 'mlgym-tracing',
        async runWorker(worker, next) {
          try {
            await next(worker);
          } finally {
            await provider.shutdown();
          }
        },
      },
    ],
  };
}

import { getStringAttribute } from '../otlp/anyvalue.js';
import type { KeyValue } from '../otlp/model.js';

export interface ResourceFields {
  ServiceName: string;
  TenantId: string;
  Environment: string;
}
export function resourceFields(attrs: KeyValue[] | null | undefined): ResourceFields {
  return {
    ServiceName: getStringAttribute(attrs, 'service.name') ?? '',
    TenantId: getStringAttribute(attrs, 'tenant.id') ?? '',
    Environment:
      getStringAttribute(attrs, 'deployment.environment.name') ||
      getStringAttribute(attrs, 'deployment.environment') ||
      '',
  };
}

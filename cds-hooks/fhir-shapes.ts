/**
 * The shapes of the FHIR resources a hook brings us (prefetch, draft orders, the answers of a
 * fallback query), checked field by field where the cards read them, so that a malformed resource
 * is refused with the path of the bad field instead of failing halfway through a card. Other
 * fields and other resource types pass as they are.
 */
import { z } from 'zod';

const Identifier = z.looseObject({ system: z.string().optional(), value: z.string().optional() });
const Reference = z.looseObject({ reference: z.string().optional(), identifier: Identifier.optional(), display: z.string().optional() });
const Coding = z.looseObject({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() });
const CodeableConcept = z.looseObject({ coding: z.array(Coding).optional(), text: z.string().optional() });
const Quantity = z.looseObject({ value: z.number().optional() });
const Extension = z.looseObject({ url: z.string(), valueCode: z.string().optional(), valueReference: Reference.optional() });
const id = z.string().min(1);

const ImagingStudy = z.looseObject({ id, subject: Reference.optional(), started: z.string().optional(), identifier: z.array(Identifier).optional() });

const DiagnosticReport = z.looseObject({
  id,
  status: z.string(),
  code: CodeableConcept,
  subject: Reference.optional(),
  identifier: z.array(Identifier).optional(),
  issued: z.string().optional(),
  effectiveDateTime: z.string().optional(),
  imagingStudy: z.array(Reference).optional(),
  result: z.array(Reference).optional(),
  conclusion: z.string().optional(),
  conclusionCode: z.array(CodeableConcept).optional(),
  extension: z.array(Extension).optional(),
});

const Observation = z.looseObject({
  id,
  code: CodeableConcept,
  subject: Reference.optional(),
  valueQuantity: Quantity.optional(),
  interpretation: z.array(CodeableConcept).optional(),
  component: z
    .array(
      z.looseObject({
        code: CodeableConcept,
        valueQuantity: Quantity.optional(),
        valueCodeableConcept: CodeableConcept.optional(),
        valueString: z.string().optional(),
        valueRatio: z.looseObject({ numerator: Quantity.optional(), denominator: Quantity.optional() }).optional(),
      }),
    )
    .optional(),
});

const ServiceRequest = z.looseObject({ id: z.string().optional(), code: CodeableConcept.optional(), subject: Reference.optional() });

/** Any resource: a `resourceType`, and for the types we read, the fields we read. */
export const FhirResourceSchema: z.ZodType<{ resourceType: string }> = z.looseObject({ resourceType: z.string().min(1) }).superRefine((resource, ctx) => {
  const shape = SHAPES[resource.resourceType];
  const checked = shape?.safeParse(resource);
  for (const issue of checked?.error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
});

export const BundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  type: z.string().optional(),
  entry: z.array(z.looseObject({ resource: z.lazy(() => FhirResourceSchema).optional() })).optional(),
});

const SHAPES: Partial<Record<string, z.ZodType>> = { Bundle: BundleSchema, ImagingStudy, DiagnosticReport, Observation, ServiceRequest };

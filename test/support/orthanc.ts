/** The Orthanc harness lives with the demo, which starts one too; tests import it from here. */
export { freePort, startOrthanc, type OrthancOptions, type RunningOrthanc } from '../../server/src/demo/orthanc';

export { createRecordingContext, type RecordingContext, type RecordedMessage, type RecordedDeferral, type RecordedLog } from './recording-context.js'
export { invoke } from './invoke.js'
export { createVirtualClock, type VirtualClock } from './virtual-clock.js'
export { sagaScenario, type SagaScenario, type SagaStep, type RequestedTimeout } from './saga-scenario.js'

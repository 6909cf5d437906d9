export { createTaskSubgraph, TASK_SCHEMA_PATH, type TaskSubgraphDeps } from './server';
export { startTaskService } from './service';
export { loadTaskConfig, type TaskConfig } from './config';

// A worker thread of the survey pool (see survey-pool.ts): surveys the files it is sent, one message each.
import { parentPort } from 'node:worker_threads';
import type { LanguageId } from './parser.ts';
import { surveyFile } from './survey.ts';

export interface SurveyRequest {
  index: number;
  abs: string;
  shown: string;
  language: LanguageId;
  maxBytes: number;
}

parentPort!.on('message', async (request: SurveyRequest) => {
  try {
    parentPort!.postMessage({ index: request.index, result: await surveyFile(request.abs, request.shown, request.language, request.maxBytes) });
  } catch (error) {
    parentPort!.postMessage({ index: request.index, error: (error as Error).message });
  }
});

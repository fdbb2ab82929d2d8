import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: registered on the dev server, set by the workflows, used by `temporal workflow list`. */
export const MlgymTask = defineSearchAttributeKey('MlgymTask', SearchAttributeType.KEYWORD);
export const MlgymModel = defineSearchAttributeKey('MlgymModel', SearchAttributeType.KEYWORD);
export const MlgymStatus = defineSearchAttributeKey('MlgymStatus', SearchAttributeType.KEYWORD);
export const MlgymBestScore = defineSearchAttributeKey('MlgymBestScore', SearchAttributeType.DOUBLE);
export const MlgymBenchId = defineSearchAttributeKey('MlgymBenchId', SearchAttributeType.KEYWORD);
export const MlgymSuite = defineSearchAttributeKey('MlgymSuite', SearchAttributeType.KEYWORD);
export const MlgymRegression = defineSearchAttributeKey('MlgymRegression', SearchAttributeType.BOOL);

/** A fork's parent run and the last step it shares with it; a rescore's run or benchmark. */
export const MlgymParentRun = defineSearchAttributeKey('MlgymParentRun', SearchAttributeType.KEYWORD);
export const MlgymForkStep = defineSearchAttributeKey('MlgymForkStep', SearchAttributeType.INT);
export const MlgymRescoreOf = defineSearchAttributeKey('MlgymRescoreOf', SearchAttributeType.KEYWORD);

export const allSearchAttributes = [MlgymTask, MlgymModel, MlgymStatus, MlgymBestScore, MlgymBenchId, MlgymSuite, MlgymRegression, MlgymParentRun, MlgymForkStep, MlgymRescoreOf];

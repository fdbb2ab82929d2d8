import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: registered on the dev server, set by the workflows, used by `temporal workflow list`. */
export const MlgymTask = defineSearchAttributeKey('MlgymTask', SearchAttributeType.KEYWORD);
export const MlgymModel = defineSearchAttributeKey('MlgymModel', SearchAttributeType.KEYWORD);
export const MlgymStatus = defineSearchAttributeKey('MlgymStatus', SearchAttributeType.KEYWORD);
export const MlgymBestScore = defineSearchAttributeKey('MlgymBestScore', SearchAttributeType.DOUBLE);
export const MlgymBenchId = defineSearchAttributeKey('MlgymBenchId', SearchAttributeType.KEYWORD);
export const MlgymSuite = defineSearchAttributeKey('MlgymSuite', SearchAttributeType.KEYWORD);
export const MlgymRegression = defineSearchAttributeKey('MlgymRegression', SearchAttributeType.BOOL);

export const allSearchAttributes = [MlgymTask, MlgymModel, MlgymStatus, MlgymBestScore, MlgymBenchId, MlgymSuite, MlgymRegression];

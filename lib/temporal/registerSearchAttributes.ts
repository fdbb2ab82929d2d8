import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { allSearchAttributes } from './searchAttributes.js';
import { connectionOptions } from './connection.js';

const IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
/** The operator API's indexed-value type of each search attribute type. */
export const indexedValueType: Record<string, number> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Add the project's search attributes a server lacks (e.g. a dev server started by an older version). */
export async function registerSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect(connectionOptions(address));
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = allSearchAttributes.filter((key) => !customAttributes?.[key.name]);
    if (missing.length) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueType[key.type]!])),
      });
    }
    return missing.map((key) => key.name);
  } finally {
    await connection.close();
  }
}

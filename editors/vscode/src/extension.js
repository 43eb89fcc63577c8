// VS Code client for .dta recipes: starts `dtac lsp` (stdio) with vscode-languageclient and
// folds on braces, block strings and comment runs. Plain CommonJS: no build step.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

/** The configured `dtac` binary: a bare name goes to PATH, a relative path to the workspace. */
function dtacCommand() {
  const configured = vscode.workspace.getConfiguration('dtac').get('path', 'dtac').trim() || 'dtac';
  const hasSeparator = configured.includes('/') || configured.includes('\\');
  if (!hasSeparator || path.isAbsolute(configured)) {
    return configured;
  }
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  return folder ? path.resolve(folder.uri.fsPath, configured) : configured;
}

async function startClient() {
  const command = dtacCommand();
  const executable = { command, args: ['lsp'], transport: TransportKind.stdio };
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const serverOptions = { run: executable, debug: executable };
  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'dta' },
      { scheme: 'untitled', language: 'dta' },
    ],
    outputChannel,
    synchronize: {
      // Imported files change what a recipe means: tell the server when any .dta changes.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.dta'),
    },
  };
  client = new LanguageClient('dtac', 'dta language server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    client = undefined;
    const message = err instanceof Error ? err.message : String(err);
    const choice = await vscode.window.showErrorMessage(
      `Could not start the dta language server (\`${command} lsp\`): ${message}. ` +
        'Install dtac (`cargo install --path .` in the dtac repository) or set `dtac.path`.',
      'Open Settings'
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'dtac.path');
    }
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/**
 * Folding ranges for `{ ... }` and `[ ... ]` spanning lines, `"""` block strings and runs of
 * `#` comment lines. Brackets inside strings and comments are skipped.
 * @param {vscode.TextDocument} document
 * @returns {vscode.FoldingRange[]}
 */
function foldingRanges(document) {
  const ranges = [];
  const text = document.getText();
  const open = []; // line numbers of unclosed `{` and `[`
  let line = 0;
  let i = 0;
  let commentStart = -1;
  let commentEnd = -1;
  let lineHasCode = false;
  const flushComments = () => {
    if (commentStart >= 0 && commentEnd > commentStart) {
      ranges.push(new vscode.FoldingRange(commentStart, commentEnd, vscode.FoldingRangeKind.Comment));
    }
    commentStart = -1;
    commentEnd = -1;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line += 1;
      lineHasCode = false;
      i += 1;
    } else if (c === '#') {
      if (!lineHasCode) {
        if (commentStart >= 0 && commentEnd === line - 1) {
          commentEnd = line;
        } else {
          flushComments();
          commentStart = line;
          commentEnd = line;
        }
      }
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (text.startsWith('"""', i)) {
      lineHasCode = true;
      const startLine = line;
      const end = text.indexOf('"""', i + 3);
      const stop = end < 0 ? text.length : end + 3;
      for (let j = i; j < stop; j += 1) {
        if (text[j] === '\n') line += 1;
      }
      if (line > startLine) {
        ranges.push(new vscode.FoldingRange(startLine, line));
      }
      i = stop;
    } else if (c === '"') {
      lineHasCode = true;
      i += 1;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') {
        i += text[i] === '\\' && text[i + 1] !== '\n' ? 2 : 1;
      }
      if (text[i] === '"') i += 1;
    } else {
      if (c !== ' ' && c !== '\t' && c !== '\r') {
        lineHasCode = true;
        if (commentStart >= 0 && commentEnd < line) flushComments();
      }
      if (c === '{' || c === '[') {
        open.push(line);
      } else if ((c === '}' || c === ']') && open.length > 0) {
        const start = open.pop();
        if (line > start) {
          // Keep the closing bracket's line visible.
          ranges.push(new vscode.FoldingRange(start, Math.max(start, line - 1)));
        }
      }
      i += 1;
    }
  }
  flushComments();
  return ranges;
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  outputChannel = vscode.window.createOutputChannel('dta language server');
  context.subscriptions.push(outputChannel);

  context.subscriptions.push(
    vscode.languages.registerFoldingRangeProvider(
      { language: 'dta' },
      { provideFoldingRanges: (document) => foldingRanges(document) }
    )
  );

  context.subscriptions.push(
    vscode.commands.registerCommand('dtac.restartServer', () => restartClient())
  );

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('dtac.path')) {
        restartClient();
      }
    })
  );

  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate, foldingRanges };

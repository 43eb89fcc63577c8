" Vim syntax file
" Language:     dta (reasoning-distillation recipes for dtac)
" Filenames:    *.dta
" Grammar:      grammar/src/grammar.pest and docs/language.md in the dtac repository
"
" Item keywords (stage, prompt, teacher, ...) are reserved only at the start of an item,
" so they are matched only outside blocks and only when what follows fits the item:
" `prompt = solve` inside a stage's block is a setting. Blocks, records and schemas are
" `{ ... }` regions, foldable with `:setlocal foldmethod=syntax`.

if exists('b:current_syntax')
  finish
endif
let s:cpo_save = &cpo
set cpo&vim

syn case match
" Block strings may span many lines: parse from the start (recipes are small).
syn sync fromstart

syn cluster dtaValues contains=dtaComment,dtaString,dtaBlockString,dtaBoolean,dtaNumber,dtaDuration,dtaCall,dtaEnv,dtaReference,dtaBlock,dtaList,dtaArgs,dtaType,dtaOptional,dtaComma

" Comments.
syn keyword dtaTodo contained TODO FIXME XXX NOTE
syn match dtaComment "#.*$" contains=dtaTodo,@Spell

" Items (top level only).
syn match dtaItemKeyword "^\s*\zs\<version\>\ze\s*="
syn match dtaItemKeyword "\<import\>\ze\s*\""
syn match dtaItemKeyword "\<param\>\ze\s\+\h\w*\s*:" nextgroup=dtaParamName skipwhite
syn match dtaItemKeyword "\<\%(teacher\|student\)\>\ze\s\+\h\w*\s*\%({\|#\|$\)" nextgroup=dtaDeclName skipwhite
syn match dtaItemKeyword "\<\%(dataset\|stage\|objective\)\>\ze\s\+\h\w*\s*:" nextgroup=dtaCallName skipwhite
syn match dtaItemKeyword "\<prompt\>\ze\s\+\h\w*\s*\%(\"\|#\|$\)" nextgroup=dtaDeclName skipwhite
syn match dtaItemKeyword "\<export\>\ze\s\+\h\w*\s\+to\>" nextgroup=dtaExportName skipwhite

syn match dtaParamName contained "\h\w*"
syn match dtaDeclName contained "\h\w*"
" `stage NAME: op`, `dataset NAME: source`, `objective NAME: kind`.
syn match dtaCallName contained "\h\w*" nextgroup=dtaCallColon skipwhite
syn match dtaCallColon contained ":" nextgroup=dtaOp skipwhite skipnl
syn match dtaOp contained "\h\w*"
" `export NAME to "PATH" as FORMAT`.
syn match dtaExportName contained "\h\w*" nextgroup=dtaTo skipwhite
syn match dtaTo contained "\<to\>"
syn match dtaAs "\%(\"\s*\|^\s*\)\@<=\<as\>\ze\s\+\h" nextgroup=dtaFormat skipwhite
syn match dtaFormat contained "\h\w*"

" Values.
syn keyword dtaBoolean true false
syn match dtaComma ","
syn match dtaReference "\<\h\w*\%(\.\h\w*\)*" contained contains=dtaMember
syn match dtaMember contained "\.\h\w*"
syn match dtaNumber "\%(\w\|\.\)\@<!-\=\d\+\%(\.\d\+\)\=\%([eE][+-]\=\d\+\)\=\>"
syn match dtaDuration "\%(\w\|\.\)\@<!\d\+\%(\.\d\+\)\=\%(ms\|s\|m\|h\)\>" contains=dtaUnit
syn match dtaUnit contained "\%(ms\|s\|m\|h\)\>"
syn match dtaCall "\<\h\w*\ze\s*("
syn match dtaEnv "\<env\ze\s*("
" Types: after `:` in a param or schema field, and inside `list[...]` (after references,
" so that they win where both match).
syn match dtaType "\%(\%(:\|\[\)\s*\)\@<=\<\%(int\|float\|str\|bool\|duration\|any\|list\)\>"
syn match dtaOptional "\%(\w\|\]\)\@<=?"

" Line strings: one line, escapes \\ \" \n \t \r \u{...}; an unterminated one ends at the
" end of its line.
syn region dtaString start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contains=dtaBadEscape,dtaEscape,dtaPlaceholder,dtaPlaceholderEscape
syn match dtaBadEscape contained +\\.+
syn match dtaEscape contained +\\\%([\\"ntr]\|u{\x\{1,6}}\)+
" Block strings: raw and multi-line, with {{field}} placeholders; \{{ is a literal {{.
syn region dtaBlockString start=+"""+ end=+"""+ contains=dtaPlaceholder,dtaPlaceholderEscape,@Spell fold
syn match dtaPlaceholder contained "{{\s*\h\w*\%(\.\h\w*\)*\s*}}" contains=dtaPlaceholderBrace
syn match dtaPlaceholderBrace contained "{{\|}}"
syn match dtaPlaceholderEscape contained +\\\\\={{+

" Blocks of settings, records and schemas; lists.
syn region dtaBlock matchgroup=dtaBrace start="{" end="}" contains=dtaSetting,dtaField,@dtaValues fold
syn region dtaList matchgroup=dtaBracket start="\[" end="\]" contains=@dtaValues fold
syn match dtaSetting contained "\<\h\w*\ze\s*=" nextgroup=dtaAssign skipwhite
syn match dtaAssign contained "="
syn match dtaField contained "\<\h\w*\ze\s*:"

" Top-level values: a param's default, a call's arguments.
syn region dtaArgs matchgroup=dtaParen start="(" end=")" contains=@dtaValues transparent

hi def link dtaComment           Comment
hi def link dtaTodo              Todo
hi def link dtaItemKeyword       Keyword
hi def link dtaTo                Keyword
hi def link dtaAs                Keyword
hi def link dtaParamName         Identifier
hi def link dtaDeclName          Identifier
hi def link dtaCallName          Function
hi def link dtaExportName        Identifier
hi def link dtaOp                Type
hi def link dtaFormat            Constant
hi def link dtaType              Type
hi def link dtaOptional          Operator
hi def link dtaBoolean           Boolean
hi def link dtaNumber            Number
hi def link dtaDuration          Number
hi def link dtaUnit              Special
hi def link dtaCall              Function
hi def link dtaEnv               Macro
hi def link dtaString            String
hi def link dtaBlockString       String
hi def link dtaEscape            SpecialChar
hi def link dtaBadEscape         Error
hi def link dtaPlaceholder       Identifier
hi def link dtaPlaceholderBrace  Delimiter
hi def link dtaPlaceholderEscape SpecialChar
hi def link dtaSetting           Identifier
hi def link dtaField             Identifier
hi def link dtaMember            Identifier
hi def link dtaBrace             Delimiter
hi def link dtaBracket           Delimiter
hi def link dtaParen             Delimiter

let b:current_syntax = 'dta'

let &cpo = s:cpo_save
unlet s:cpo_save

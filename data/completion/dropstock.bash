# bash completion for dropstock(1)                         -*- shell-script -*-
#
# Installed as $(datadir)/bash-completion/completions/dropstock, where
# bash-completion loads it on first use; or source it from ~/.bashrc.
# Subcommands, options, supplier slugs, run ids and event ids come from
# the hidden `dropstock __complete` helper, so they follow the binary, the
# configuration and the database.

# _dropstock_helper WHAT [ARG]: the helper's candidates, one per line.
_dropstock_helper()
{
	"${_dropstock_prog:-dropstock}" ${_dropstock_gopts[@]+"${_dropstock_gopts[@]}"} __complete "$@" 2> /dev/null
}

# _dropstock_reply WORD-LIST: candidates in the list that start with $cur.
_dropstock_reply()
{
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

_dropstock_files()
{
	local IFS=$'\n'
	compopt -o filenames 2> /dev/null
	COMPREPLY=($(compgen -f -- "$cur"))
}

_dropstock()
{
	local cur prev cmd= sub= w i cmd_at=0 npos=0
	local _dropstock_prog=${COMP_WORDS[0]}
	local -a _dropstock_gopts=()

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	[[ $_dropstock_prog == "~/"* ]] && _dropstock_prog=$HOME/${_dropstock_prog#"~/"}

	# global options up to the subcommand; --config is passed on to the helper
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-c | --config)
			if ((i + 1 < COMP_CWORD)); then
				w=${COMP_WORDS[i + 1]}
				[[ $w == "~/"* ]] && w=$HOME/${w#"~/"}
				_dropstock_gopts=(--config "$w")
			fi
			((i++))
			;;
		-*) ;;
		*)
			cmd=$w
			cmd_at=$i
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-c | --config)
			_dropstock_files
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			_dropstock_reply "--config
--quiet
--verbose
--version
--help"
		else
			_dropstock_reply "$(_dropstock_helper commands)"
		fi
		return 0
	fi

	# the value of the option before the cursor
	case $prev in
	-s | --supplier)
		case $cmd in
		sync | check | runs | history | unknown)
			_dropstock_reply "$(_dropstock_helper suppliers)"
			return 0
			;;
		esac
		;;
	--format)
		_dropstock_reply "csv
json"
		return 0
		;;
	--source)
		_dropstock_reply "full
delta
webhook
check
manual"
		return 0
		;;
	--limit | --since | --sku | --after | --changed-since | --listen | -l | --qty | \
		-t | --timeout | --name)
		return 0
		;;
	-n)
		[[ $cmd == check ]] && return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		_dropstock_reply "$(_dropstock_helper options "$cmd")"
		return 0
	fi

	# the positional words between the subcommand and the cursor
	for ((i = cmd_at + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--supplier | --limit | --since | --sku | --after | --source | --format | \
			--changed-since | --listen | -l | --qty | -t | --timeout | --name)
			((i++))
			;;
		-s)
			[[ $cmd == sync || $cmd == check ]] && ((i++))
			;;
		-n)
			[[ $cmd == check ]] && ((i++))
			;;
		-*) ;;
		*)
			((npos == 0)) && sub=$w
			((npos++))
			;;
		esac
	done

	case $cmd in
	link)
		case $npos:$sub in
		0:*) _dropstock_reply "import
add
remove" ;;
		1:import) _dropstock_files ;;
		2:add | 1:remove) _dropstock_reply "$(_dropstock_helper suppliers)" ;;
		esac
		;;
	events)
		case $npos:$sub in
		0:*) _dropstock_reply "retry
deliver" ;;
		1:retry) _dropstock_reply "$(_dropstock_helper events dead)" ;;
		esac
		;;
	run-now)
		((npos == 0)) && _dropstock_reply "$(_dropstock_helper suppliers)"
		;;
	approve)
		((npos == 0)) && _dropstock_reply "$(_dropstock_helper runs needs_approval)"
		;;
	revert)
		((npos == 0)) && _dropstock_reply "$(_dropstock_helper runs)"
		;;
	check) ;;
	*)
		_dropstock_reply "$(_dropstock_helper options "$cmd")"
		;;
	esac
	return 0
}
complete -F _dropstock dropstock

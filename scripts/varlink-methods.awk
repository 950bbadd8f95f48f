# The daemon's method table, made from the Varlink interface files at build
# time (Makefile.am): awk -f varlink-methods.awk io.shmd.varlink ... > h.
#
# For each method: an index per parameter (ARG_CREATE_SIZE), the handler's
# prototype (method_create: a name's CamelCase in snake_case), its
# parameters with their types (string, int, bool; an enum is a string;
# "?" optional). Then, under VARLINK_METHODS_TABLE (dispatch.c), the table
# itself and the interface's error names. A parameter of another type
# stops the build: the call layer could not check it.

function snake(s,	out, i, c) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c ~ /[A-Z]/ && i > 1)
			out = out "_"
		out = out tolower(c)
	}
	return out
}

function fail(msg) {
	printf "%s: %s\n", FILENAME, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# One definition ("method Name(...) -> (...)", "error Name (...)"), whole.
function definition(text,	kind, name, rest, depth, i, c, args, n, parts,
    p, pname, ptype, opt, type, m) {
	kind = text
	sub(/[ \t].*/, "", kind)
	rest = text
	sub(/^[a-z]+[ \t]+/, "", rest)
	name = rest
	sub(/[ \t(].*/, "", name)
	if (kind == "error") {
		errors[++nerrors] = iface "." name
		return
	}
	if (kind != "method")
		return
	# the parameters: up to the parenthesis that closes the first
	rest = substr(rest, index(rest, "(") + 1)
	depth = 1
	args = ""
	for (i = 1; i <= length(rest) && depth > 0; i++) {
		c = substr(rest, i, 1)
		if (c == "(")
			depth++
		else if (c == ")" && --depth == 0)
			break
		args = args c
	}
	m = ++nmethods
	mname[m] = iface "." name
	mfn[m] = "method_" snake(name)
	mupper[m] = toupper(snake(name))
	mnargs[m] = 0
	gsub(/[ \t]/, "", args)
	# commas inside an enum's parentheses are not separators
	while (match(args, /\([^()]*,[^()]*\)/)) {
		p = substr(args, RSTART, RLENGTH)
		gsub(/,/, "|", p)
		args = substr(args, 1, RSTART - 1) p substr(args, RSTART + RLENGTH)
	}
	if (args == "")
		return
	n = split(args, parts, ",")
	for (i = 1; i <= n; i++) {
		pname = parts[i]
		sub(/:.*/, "", pname)
		ptype = parts[i]
		sub(/^[^:]*:/, "", ptype)
		opt = substr(ptype, 1, 1) == "?"
		if (opt)
			ptype = substr(ptype, 2)
		if (ptype == "string" || ptype ~ /^\(.*\)$/)
			type = "PARAM_STRING"
		else if (ptype == "int")
			type = "PARAM_INT"
		else if (ptype == "bool")
			type = "PARAM_BOOL"
		else
			fail("method " name ": parameter " pname " of type " \
			    ptype ": the call layer checks string, int, bool " \
			    "and enums only")
		mnargs[m]++
		aname[m, i] = pname
		atype[m, i] = type
		areq[m, i] = opt ? 0 : 1
	}
	if (n > maxargs)
		maxargs = n
}

function flush() {
	if (pending != "")
		definition(pending)
	pending = ""
}

BEGIN {
	nmethods = nerrors = maxargs = 0
	pending = ""
}

FNR == 1 {
	flush()
	iface = ""
}

{
	sub(/#.*/, "")
	if ($0 ~ /^[ \t]*$/)
		next
}

/^interface[ \t]/ {
	flush()
	iface = $2
	next
}

/^(method|error|type)[ \t]/ {
	flush()
	if (iface == "")
		fail("a definition before the interface line")
	pending = $0
	next
}

{
	if (pending != "")
		pending = pending " " $0
}

END {
	if (failed)
		exit 1
	flush()
	print "/* Made from the interface files by scripts/varlink-methods.awk: do not edit. */"
	print "#ifndef SHMD_VARLINK_METHODS_H"
	print "#define SHMD_VARLINK_METHODS_H"
	print ""
	printf "#define VARLINK_ARGS_MAX\t%d\n", (maxargs > 0 ? maxargs : 1)
	printf "#define VARLINK_NMETHODS\t%d\n", nmethods
	printf "#define VARLINK_NERRORS\t\t%d\n", nerrors
	for (m = 1; m <= nmethods; m++) {
		print ""
		printf "/* %s */\n", mname[m]
		if (mnargs[m] > 0) {
			print "enum {"
			for (i = 1; i <= mnargs[m]; i++)
				printf "\tARG_%s_%s,\n", mupper[m], toupper(aname[m, i])
			print "};"
		}
		printf "method_fn %s;\n", mfn[m]
	}
	print ""
	print "#endif"
	print ""
	print "#if defined(VARLINK_METHODS_TABLE) && !defined(SHMD_VARLINK_METHODS_TABLE)"
	print "#define SHMD_VARLINK_METHODS_TABLE"
	for (m = 1; m <= nmethods; m++) {
		if (mnargs[m] == 0)
			continue
		printf "static const struct param_spec %s_params[] = {\n", mfn[m]
		for (i = 1; i <= mnargs[m]; i++)
			printf "\t[ARG_%s_%s] = { \"%s\", %s, %d },\n", mupper[m],
			    toupper(aname[m, i]), aname[m, i], atype[m, i], areq[m, i]
		print "};"
	}
	print ""
	print "const struct method methods[VARLINK_NMETHODS] = {"
	for (m = 1; m <= nmethods; m++) {
		specs = mnargs[m] > 0 ? mfn[m] "_params" : "NULL"
		printf "\t{ \"%s\", %s, %s, %d },\n", mname[m], mfn[m],
		    specs, mnargs[m]
	}
	print "};"
	print ""
	print "const char *const interface_errors[VARLINK_NERRORS] = {"
	for (e = 1; e <= nerrors; e++)
		printf "\t\"%s\",\n", errors[e]
	print "};"
	print "#endif"
}

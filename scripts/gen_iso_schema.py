#!/usr/bin/env python3
"""Regenerates src/iso20022/iso_schema.c from the official ISO 20022 XSDs.

usage: scripts/gen_iso_schema.py XSD_DIR > src/iso20022/iso_schema.c

For each supported message definition it emits the types reachable from the root element:
complex types as a list of element particles (name, type, minOccurs, maxOccurs) under one
sequence or choice, simple types with their facets. iso_schema.c's walker uses them to check
element names, order, cardinality and text facets without loading any XSD at run time. The
ISO schemas use neither nested groups nor attribute-bearing complex content beyond the Ccy of
amounts; the script asserts that, so a schema that needs more fails loudly here.
"""
import sys
import xml.etree.ElementTree as ET

XS = "{http://www.w3.org/2001/XMLSchema}"
DEFINITIONS = [
    ("pacs.008.001.08", "Document"), ("pacs.002.001.10", "Document"),
    ("pacs.004.001.09", "Document"), ("pacs.009.001.08", "Document"),
    ("pacs.028.001.03", "Document"), ("camt.056.001.08", "Document"),
    ("camt.029.001.09", "Document"), ("camt.053.001.08", "Document"),
    ("camt.054.001.08", "Document"), ("pacs.004.001.10", "Document"),
    ("head.001.001.02", "AppHdr"),
]
BASES = {"xs:string": "STRING", "xs:decimal": "DECIMAL", "xs:boolean": "BOOLEAN",
         "xs:date": "DATE", "xs:dateTime": "DATETIME", "xs:time": "TIME",
         "xs:gYearMonth": "YEAR_MONTH", "xs:base64Binary": "STRING"}
UNBOUNDED = 0xFFFF


def c_string(text, indent, width=96):
    """text as adjacent C literals (NULL for None), each line at most width columns."""
    if text is None:
        return "NULL"
    pieces, current = [], ""
    for ch in text:
        if ch in "\\\"":
            escaped = "\\" + ch
        elif 32 <= ord(ch) < 127:
            escaped = ch
        else:
            escaped = "".join("\\%03o" % b for b in ch.encode("utf-8"))
        if len(current) + len(escaped) > width - indent - 2:
            pieces.append('"' + current + '"')
            current = ""
        current += escaped
    pieces.append('"' + current + '"')
    return ("\n" + " " * indent).join(pieces)


class Schema:
    def __init__(self, path, root_name):
        tree = ET.parse(path).getroot()
        self.complex = {t.get("name"): t for t in tree.findall(XS + "complexType")}
        self.simple = {t.get("name"): t for t in tree.findall(XS + "simpleType")}
        root = [e for e in tree.findall(XS + "element") if e.get("name") == root_name]
        assert len(root) == 1, path
        self.root_type = root[0].get("type")
        self.order = []
        self.index = {}
        self.visit(self.root_type)

    def visit(self, name):
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current in self.index:
                continue
            self.index[current] = len(self.order)
            self.order.append(current)
            pending.extend(self.references(current))

    def references(self, name):
        if name in self.complex:
            node = self.complex[name]
            refs = []
            for group in node:
                if group.tag in (XS + "sequence", XS + "choice"):
                    refs += [e.get("type") for e in group.findall(XS + "element")]
                elif group.tag == XS + "simpleContent":
                    refs.append(group[0].get("base"))
            return refs
        return []

    def type_entry(self, name, particles):
        if name in BASES:
            return {"kind": "SIMPLE", "base": BASES[name]}
        if name in self.simple:
            return self.simple_entry(self.simple[name])
        node = self.complex[name]
        children = list(node)
        assert len(children) == 1, name
        group = children[0]
        if group.tag == XS + "simpleContent":
            extension = group[0]
            attributes = extension.findall(XS + "attribute")
            assert [a.get("name") for a in attributes] == ["Ccy"], name
            return {"kind": "SIMPLE_CONTENT", "content": self.index[extension.get("base")]}
        kind = "SEQUENCE" if group.tag == XS + "sequence" else "CHOICE"
        assert group.tag in (XS + "sequence", XS + "choice"), name
        if group.find(XS + "any") is not None:
            return {"kind": "ANY"}
        first = len(particles)
        for element in group:
            assert element.tag == XS + "element", name  # no nested groups
            high = element.get("maxOccurs", "1")
            particles.append((element.get("name"), self.index[element.get("type")],
                              int(element.get("minOccurs", "1")),
                              UNBOUNDED if high == "unbounded" else int(high)))
        return {"kind": kind, "first": first, "count": len(particles) - first}

    def simple_entry(self, node):
        restriction = node.find(XS + "restriction")
        entry = {"kind": "SIMPLE", "base": BASES[restriction.get("base")]}
        enumeration = []
        for facet in restriction:
            tag = facet.tag[len(XS):]
            value = facet.get("value")
            if tag == "enumeration":
                enumeration.append(value)
            elif tag == "pattern":
                assert "pattern" not in entry
                entry["pattern"] = value
            elif tag in ("minLength", "maxLength", "totalDigits", "fractionDigits"):
                entry[tag] = int(value)
            elif tag == "minInclusive":
                assert value == "0", value
                entry["nonNegative"] = 1
            else:
                raise AssertionError(tag)
        if enumeration:
            entry["enumeration"] = "|".join(enumeration)
        return entry


def emit(definition, schema, out):
    ident = definition.replace(".", "_")
    particles = []
    types = [schema.type_entry(name, particles) for name in schema.order]
    out.append("static const cor__iso_particle schema_%s_particles[] = {" % ident)
    for name, type_index, low, high in particles:
        out.append('    {"%s", %d, %d, %d},' % (name, type_index, low, high))
    if not particles:
        out.append('    {NULL, 0, 0, 0},')
    out.append("};")
    out.append("static const cor__iso_type schema_%s_types[] = {" % ident)
    for index, (name, entry) in enumerate(zip(schema.order, types)):
        out.append("    /* %d: %s */" % (index, name))
        out.append("    {COR_ISO_SCHEMA_%s, COR_ISO_TEXT_%s, %d, %d, %d, %d, %d, %d, %d, %d," % (
            entry["kind"], entry.get("base", "STRING"), entry.get("first", 0),
            entry.get("count", 0), entry.get("content", 0), entry.get("minLength", 0),
            entry.get("maxLength", 0), entry.get("totalDigits", 0),
            entry.get("fractionDigits", 255), entry.get("nonNegative", 0)))
        out.append("     %s," % c_string(entry.get("pattern"), 5))
        out.append("     %s}," % c_string(entry.get("enumeration"), 5))
    out.append("};")
    return ident, len(types)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_iso_schema.py XSD_DIR\n")
        return 2
    out = ["/* Generated by scripts/gen_iso_schema.py from the official ISO 20022 XSDs;",
           " * do not edit by hand. */",
           '#include "iso20022/iso_internal.h"', ""]
    table = []
    for definition, root in DEFINITIONS:
        schema = Schema("%s/%s.xsd" % (sys.argv[1], definition), root)
        ident, count = emit(definition, schema, out)
        table.append('    {"%s", "%s", schema_%s_types, %d,\n     schema_%s_particles},'
                     % (definition, root, ident, count, ident))
        out.append("")
    out.append("const cor__iso_schema cor__iso_schemas[] = {")
    out += table
    out.append("};")
    out.append("const uint32_t cor__iso_schema_count = %d;" % len(DEFINITIONS))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

package rpm

import "fmt"

// TagType is the type of a header entry's value (rpm's rpmTagType).
type TagType uint32

// The types a header entry can have. TypeNull never appears in a valid
// header.
const (
	TypeNull        TagType = 0
	TypeChar        TagType = 1
	TypeInt8        TagType = 2
	TypeInt16       TagType = 3
	TypeInt32       TagType = 4
	TypeInt64       TagType = 5
	TypeString      TagType = 6
	TypeBin         TagType = 7
	TypeStringArray TagType = 8
	TypeI18NString  TagType = 9
)

// size is the width of one element of fixed-size types, 0 for the string
// types (variable) and for TypeNull.
func (t TagType) size() int {
	switch t {
	case TypeChar, TypeInt8, TypeBin:
		return 1
	case TypeInt16:
		return 2
	case TypeInt32:
		return 4
	case TypeInt64:
		return 8
	}
	return 0
}

// align is the alignment of the type's data in the data store.
func (t TagType) align() int {
	if s := t.size(); s > 1 {
		return s
	}
	return 1
}

// isString reports whether the type is one of the NUL-terminated string types.
func (t TagType) isString() bool {
	return t == TypeString || t == TypeStringArray || t == TypeI18NString
}

func (t TagType) String() string {
	switch t {
	case TypeNull:
		return "null"
	case TypeChar:
		return "char"
	case TypeInt8:
		return "int8"
	case TypeInt16:
		return "int16"
	case TypeInt32:
		return "int32"
	case TypeInt64:
		return "int64"
	case TypeString:
		return "string"
	case TypeBin:
		return "bin"
	case TypeStringArray:
		return "string array"
	case TypeI18NString:
		return "i18n string"
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// Tag identifies a header entry (rpm's rpmTag; numbers from rpm's
// include/rpm/rpmtag.h).
type Tag int32

// Region tags: the first entry of a header with an immutable region, and the
// region trailer at the end of its data.
const (
	TagHeaderImage      Tag = 61
	TagHeaderSignatures Tag = 62
	TagHeaderImmutable  Tag = 63
	TagHeaderRegions    Tag = 64
	TagHeaderI18NTable  Tag = 100
)

// Tags of the signature header that share their number with a main header
// tag (256..999), also merged into installed headers.
const (
	TagSigSize             Tag = 257
	TagSigPGP              Tag = 259
	TagSigMD5              Tag = 261
	TagSigGPG              Tag = 262
	TagPubKeys             Tag = 266
	TagDSAHeader           Tag = 267
	TagRSAHeader           Tag = 268
	TagSHA1Header          Tag = 269
	TagLongSigSize         Tag = 270
	TagLongArchiveSize     Tag = 271
	TagSHA256Header        Tag = 273
	TagVeritySignatures    Tag = 276
	TagVeritySignatureAlgo Tag = 277
	TagOpenPGP             Tag = 278
	TagSHA3_256Header      Tag = 279
)

// Tags that only appear in a package's signature header, where numbers from
// 1000 up mean something else than in a main header (rpm's RPMSIGTAG_*).
// The others are the TagXXX numbers above: SigTagSHA1 is TagSHA1Header.
const (
	SigTagSize                Tag = 1000 // header+payload size, 32 bits
	SigTagLEMD5_1             Tag = 1001
	SigTagPGP                 Tag = 1002
	SigTagLEMD5_2             Tag = 1003
	SigTagMD5                 Tag = 1004 // MD5 of header+payload
	SigTagGPG                 Tag = 1005
	SigTagPGP5                Tag = 1006
	SigTagPayloadSize         Tag = 1007 // uncompressed payload size, 32 bits
	SigTagReservedSpace       Tag = 1008
	SigTagDSA                 Tag = TagDSAHeader
	SigTagRSA                 Tag = TagRSAHeader
	SigTagSHA1                Tag = TagSHA1Header
	SigTagLongSize            Tag = TagLongSigSize
	SigTagLongArchiveSize     Tag = TagLongArchiveSize
	SigTagSHA256              Tag = TagSHA256Header
	SigTagFileSignatures      Tag = 274
	SigTagFileSignatureLength Tag = 275
	SigTagVeritySignatures    Tag = TagVeritySignatures
	SigTagVeritySignatureAlgo Tag = TagVeritySignatureAlgo
	SigTagOpenPGP             Tag = TagOpenPGP
	SigTagSHA3_256            Tag = TagSHA3_256Header
	SigTagReserved            Tag = 999
)

// Main header tags.
const (
	TagName               Tag = 1000
	TagVersion            Tag = 1001
	TagRelease            Tag = 1002
	TagEpoch              Tag = 1003
	TagSummary            Tag = 1004
	TagDescription        Tag = 1005
	TagBuildTime          Tag = 1006
	TagBuildHost          Tag = 1007
	TagInstallTime        Tag = 1008
	TagSize               Tag = 1009
	TagDistribution       Tag = 1010
	TagVendor             Tag = 1011
	TagGIF                Tag = 1012
	TagXPM                Tag = 1013
	TagLicense            Tag = 1014
	TagPackager           Tag = 1015
	TagGroup              Tag = 1016
	TagChangelog          Tag = 1017
	TagSource             Tag = 1018
	TagPatch              Tag = 1019
	TagURL                Tag = 1020
	TagOS                 Tag = 1021
	TagArch               Tag = 1022
	TagPreIn              Tag = 1023
	TagPostIn             Tag = 1024
	TagPreUn              Tag = 1025
	TagPostUn             Tag = 1026
	TagOldFilenames       Tag = 1027
	TagFileSizes          Tag = 1028
	TagFileStates         Tag = 1029
	TagFileModes          Tag = 1030
	TagFileUIDs           Tag = 1031
	TagFileGIDs           Tag = 1032
	TagFileRdevs          Tag = 1033
	TagFileMtimes         Tag = 1034
	TagFileDigests        Tag = 1035
	TagFileLinkTos        Tag = 1036
	TagFileFlags          Tag = 1037
	TagRoot               Tag = 1038
	TagFileUsername       Tag = 1039
	TagFileGroupname      Tag = 1040
	TagExclude            Tag = 1041
	TagExclusive          Tag = 1042
	TagIcon               Tag = 1043
	TagSourceRPM          Tag = 1044
	TagFileVerifyFlags    Tag = 1045
	TagArchiveSize        Tag = 1046
	TagProvideName        Tag = 1047
	TagRequireFlags       Tag = 1048
	TagRequireName        Tag = 1049
	TagRequireVersion     Tag = 1050
	TagNoSource           Tag = 1051
	TagNoPatch            Tag = 1052
	TagConflictFlags      Tag = 1053
	TagConflictName       Tag = 1054
	TagConflictVersion    Tag = 1055
	TagDefaultPrefix      Tag = 1056
	TagBuildRoot          Tag = 1057
	TagInstallPrefix      Tag = 1058
	TagExcludeArch        Tag = 1059
	TagExcludeOS          Tag = 1060
	TagExclusiveArch      Tag = 1061
	TagExclusiveOS        Tag = 1062
	TagAutoReqProv        Tag = 1063
	TagRPMVersion         Tag = 1064
	TagTriggerScripts     Tag = 1065
	TagTriggerName        Tag = 1066
	TagTriggerVersion     Tag = 1067
	TagTriggerFlags       Tag = 1068
	TagTriggerIndex       Tag = 1069
	TagVerifyScript       Tag = 1079
	TagChangelogTime      Tag = 1080
	TagChangelogName      Tag = 1081
	TagChangelogText      Tag = 1082
	TagBrokenMD5          Tag = 1083
	TagPreReq             Tag = 1084
	TagPreInProg          Tag = 1085
	TagPostInProg         Tag = 1086
	TagPreUnProg          Tag = 1087
	TagPostUnProg         Tag = 1088
	TagBuildArchs         Tag = 1089
	TagObsoleteName       Tag = 1090
	TagVerifyScriptProg   Tag = 1091
	TagTriggerScriptProg  Tag = 1092
	TagDocDir             Tag = 1093
	TagCookie             Tag = 1094
	TagFileDevices        Tag = 1095
	TagFileInodes         Tag = 1096
	TagFileLangs          Tag = 1097
	TagPrefixes           Tag = 1098
	TagInstPrefixes       Tag = 1099
	TagTriggerIn          Tag = 1100
	TagTriggerUn          Tag = 1101
	TagTriggerPostUn      Tag = 1102
	TagAutoReq            Tag = 1103
	TagAutoProv           Tag = 1104
	TagCapability         Tag = 1105
	TagSourcePackage      Tag = 1106
	TagOldOrigFilenames   Tag = 1107
	TagBuildPreReq        Tag = 1108
	TagBuildRequires      Tag = 1109
	TagBuildConflicts     Tag = 1110
	TagBuildMacros        Tag = 1111
	TagProvideFlags       Tag = 1112
	TagProvideVersion     Tag = 1113
	TagObsoleteFlags      Tag = 1114
	TagObsoleteVersion    Tag = 1115
	TagDirIndexes         Tag = 1116
	TagBasenames          Tag = 1117
	TagDirnames           Tag = 1118
	TagOrigDirIndexes     Tag = 1119
	TagOrigBasenames      Tag = 1120
	TagOrigDirnames       Tag = 1121
	TagOptFlags           Tag = 1122
	TagDistURL            Tag = 1123
	TagPayloadFormat      Tag = 1124
	TagPayloadCompressor  Tag = 1125
	TagPayloadFlags       Tag = 1126
	TagInstallColor       Tag = 1127
	TagInstallTID         Tag = 1128
	TagRemoveTID          Tag = 1129
	TagSHA1RHN            Tag = 1130
	TagRHNPlatform        Tag = 1131
	TagPlatform           Tag = 1132
	TagPatchesName        Tag = 1133
	TagPatchesFlags       Tag = 1134
	TagPatchesVersion     Tag = 1135
	TagCacheCTime         Tag = 1136
	TagCachePkgPath       Tag = 1137
	TagCachePkgSize       Tag = 1138
	TagCachePkgMtime      Tag = 1139
	TagFileColors         Tag = 1140
	TagFileClass          Tag = 1141
	TagClassDict          Tag = 1142
	TagFileDependsX       Tag = 1143
	TagFileDependsN       Tag = 1144
	TagDependsDict        Tag = 1145
	TagSourceSigMD5       Tag = 1146
	TagFileContexts       Tag = 1147
	TagFSContexts         Tag = 1148
	TagREContexts         Tag = 1149
	TagPolicies           Tag = 1150
	TagPreTrans           Tag = 1151
	TagPostTrans          Tag = 1152
	TagPreTransProg       Tag = 1153
	TagPostTransProg      Tag = 1154
	TagDistTag            Tag = 1155
	TagOldSuggestsName    Tag = 1156
	TagOldSuggestsVersion Tag = 1157
	TagOldSuggestsFlags   Tag = 1158
	TagOldEnhancesName    Tag = 1159
	TagOldEnhancesVersion Tag = 1160
	TagOldEnhancesFlags   Tag = 1161
	TagPriority           Tag = 1162
	TagCVSID              Tag = 1163
	TagTriggerPreIn       Tag = 1171
	TagScriptStates       Tag = 1174
	TagScriptMetrics      Tag = 1175
	TagBuildCPUClock      Tag = 1176
	TagFileDigestAlgos    Tag = 1177
	TagPackageColor       Tag = 1184
	TagPackagePrefColor   Tag = 1185
	TagDBInstance         Tag = 1195
	TagNVRA               Tag = 1196

	TagFilenames                   Tag = 5000
	TagFileProvide                 Tag = 5001
	TagFileRequire                 Tag = 5002
	TagTriggerConds                Tag = 5005
	TagTriggerType                 Tag = 5006
	TagOrigFilenames               Tag = 5007
	TagLongFileSizes               Tag = 5008
	TagLongSize                    Tag = 5009
	TagFileCaps                    Tag = 5010
	TagFileDigestAlgo              Tag = 5011
	TagBugURL                      Tag = 5012
	TagEVR                         Tag = 5013
	TagNVR                         Tag = 5014
	TagNEVR                        Tag = 5015
	TagNEVRA                       Tag = 5016
	TagHeaderColor                 Tag = 5017
	TagVerbose                     Tag = 5018
	TagEpochNum                    Tag = 5019
	TagPreInFlags                  Tag = 5020
	TagPostInFlags                 Tag = 5021
	TagPreUnFlags                  Tag = 5022
	TagPostUnFlags                 Tag = 5023
	TagPreTransFlags               Tag = 5024
	TagPostTransFlags              Tag = 5025
	TagVerifyScriptFlags           Tag = 5026
	TagTriggerScriptFlags          Tag = 5027
	TagCollections                 Tag = 5029
	TagPolicyNames                 Tag = 5030
	TagPolicyTypes                 Tag = 5031
	TagPolicyTypesIndexes          Tag = 5032
	TagPolicyFlags                 Tag = 5033
	TagVCS                         Tag = 5034
	TagOrderName                   Tag = 5035
	TagOrderVersion                Tag = 5036
	TagOrderFlags                  Tag = 5037
	TagInstFilenames               Tag = 5040
	TagRequireNEVRs                Tag = 5041
	TagProvideNEVRs                Tag = 5042
	TagObsoleteNEVRs               Tag = 5043
	TagConflictNEVRs               Tag = 5044
	TagFileNLinks                  Tag = 5045
	TagRecommendName               Tag = 5046
	TagRecommendVersion            Tag = 5047
	TagRecommendFlags              Tag = 5048
	TagSuggestName                 Tag = 5049
	TagSuggestVersion              Tag = 5050
	TagSuggestFlags                Tag = 5051
	TagSupplementName              Tag = 5052
	TagSupplementVersion           Tag = 5053
	TagSupplementFlags             Tag = 5054
	TagEnhanceName                 Tag = 5055
	TagEnhanceVersion              Tag = 5056
	TagEnhanceFlags                Tag = 5057
	TagRecommendNEVRs              Tag = 5058
	TagSuggestNEVRs                Tag = 5059
	TagSupplementNEVRs             Tag = 5060
	TagEnhanceNEVRs                Tag = 5061
	TagEncoding                    Tag = 5062
	TagFileTriggerIn               Tag = 5063
	TagFileTriggerUn               Tag = 5064
	TagFileTriggerPostUn           Tag = 5065
	TagFileTriggerScripts          Tag = 5066
	TagFileTriggerScriptProg       Tag = 5067
	TagFileTriggerScriptFlags      Tag = 5068
	TagFileTriggerName             Tag = 5069
	TagFileTriggerIndex            Tag = 5070
	TagFileTriggerVersion          Tag = 5071
	TagFileTriggerFlags            Tag = 5072
	TagTransFileTriggerIn          Tag = 5073
	TagTransFileTriggerUn          Tag = 5074
	TagTransFileTriggerPostUn      Tag = 5075
	TagTransFileTriggerScripts     Tag = 5076
	TagTransFileTriggerScriptProg  Tag = 5077
	TagTransFileTriggerScriptFlags Tag = 5078
	TagTransFileTriggerName        Tag = 5079
	TagTransFileTriggerIndex       Tag = 5080
	TagTransFileTriggerVersion     Tag = 5081
	TagTransFileTriggerFlags       Tag = 5082
	TagRemovePathPostfixes         Tag = 5083
	TagFileTriggerPriorities       Tag = 5084
	TagTransFileTriggerPriorities  Tag = 5085
	TagFileTriggerConds            Tag = 5086
	TagFileTriggerType             Tag = 5087
	TagTransFileTriggerConds       Tag = 5088
	TagTransFileTriggerType        Tag = 5089
	TagFileSignatures              Tag = 5090
	TagFileSignatureLength         Tag = 5091
	TagPayloadDigest               Tag = 5092 // rpm's PAYLOADSHA256: the compressed payload's digests
	TagPayloadDigestAlgo           Tag = 5093
	TagAutoInstalled               Tag = 5094
	TagIdentity                    Tag = 5095
	TagModularityLabel             Tag = 5096
	TagPayloadDigestAlt            Tag = 5097 // rpm's PAYLOADSHA256ALT: the uncompressed payload's digests
	TagArchSuffix                  Tag = 5098
	TagSpec                        Tag = 5099
	TagTranslationURL              Tag = 5100
	TagUpstreamReleases            Tag = 5101
	TagSourceLicense               Tag = 5102
	TagPreUnTrans                  Tag = 5103
	TagPostUnTrans                 Tag = 5104
	TagPreUnTransProg              Tag = 5105
	TagPostUnTransProg             Tag = 5106
	TagPreUnTransFlags             Tag = 5107
	TagPostUnTransFlags            Tag = 5108
	TagSysUsers                    Tag = 5109
	TagBuildSystem                 Tag = 5110
	TagBuildOption                 Tag = 5111
	TagPayloadSize                 Tag = 5112
	TagPayloadSizeAlt              Tag = 5113
	TagRPMFormat                   Tag = 5114
	TagFileMimeIndex               Tag = 5115
	TagMimeDict                    Tag = 5116
	TagFileMimes                   Tag = 5117
	TagPackageDigests              Tag = 5118
	TagPackageDigestAlgos          Tag = 5119
	TagSourceNEVR                  Tag = 5120
	TagPayloadSHA512               Tag = 5121
	TagPayloadSHA512Alt            Tag = 5122
	TagPayloadSHA3_256             Tag = 5123
	TagPayloadSHA3_256Alt          Tag = 5124
)

// Aliases under rpm's other names.
const (
	TagPayloadSHA256    = TagPayloadDigest
	TagPayloadSHA256Alt = TagPayloadDigestAlt
	TagProvides         = TagProvideName
	TagRequires         = TagRequireName
	TagConflicts        = TagConflictName
	TagObsoletes        = TagObsoleteName
	TagFileMD5s         = TagFileDigests
)

// File states (TagFileStates values) rpm records at install.
const (
	FileStateNormal       = 0
	FileStateReplaced     = 1
	FileStateNotInstalled = 2
	FileStateNetShared    = 3
	FileStateWrongColor   = 4
	FileStateMissing      = -1 // not recorded, as in headers of removed packages
)
